using System.CommandLine;
using Umem.Cli.Commands;
using Umem.Kernel.ResourceControls;

namespace Umem.Tests.ResourceControls;

/// <summary>umem prctl through its Command object, and its formatting.</summary>
public sealed class PrctlTests
{
    private static (int Exit, string Out, string Err) Run(IResourceControlService service, params string[] args)
    {
        var command = PrctlCommand.Create(_ => service);
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = command.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static ResourceControlRegistry Registry() => new(
        ProjectDatabase.Parse("default:3::::\ngroup.staff:10::::project.max-locked-memory=(privileged,532676608,deny)\n", "p"),
        ZoneDatabase.Parse("global:0::\n", "z"), UserDatabase.Load());

    [Theory]
    [InlineData(0UL, "0B")]
    [InlineData(1023UL, "1023B")]
    [InlineData(1024UL, "1.00KB")]
    [InlineData(532676608UL, "508MB")]
    [InlineData(2598455214UL, "2.42GB")]
    [InlineData(10737418240UL, "10.0GB")]
    [InlineData(ulong.MaxValue, "16.0EB")]
    public void BytesFormatAsPrctlPrintsThem(ulong bytes, string text) => Assert.Equal(text, ByteUnits.Format(bytes));

    [Theory]
    [InlineData("300M", 314572800UL)]
    [InlineData("300MB", 314572800UL)]
    [InlineData("300mb", 314572800UL)]
    [InlineData("1.5G", 1610612736UL)]
    [InlineData("4096", 4096UL)]
    [InlineData("16B", 16UL)]
    [InlineData("2K", 2048UL)]
    [InlineData("1T", 1099511627776UL)]
    [InlineData("1P", 1125899906842624UL)]
    [InlineData("15E", 17293822569102704640UL)]
    public void ValuesParseWithUnits(string text, ulong bytes)
    {
        Assert.True(ByteUnits.TryParse(text, out ulong v, out _));
        Assert.Equal(bytes, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("1Q")]
    [InlineData("16E")]
    [InlineData("0.5B")]
    [InlineData("1.2.3K")]
    [InlineData("-1")]
    public void BadValuesAreRefused(string text) => Assert.False(ByteUnits.TryParse(text, out _, out _));

    [Fact]
    public void ShowsAProjectAsTheManPageDoes()
    {
        var (exit, output, _) = Run(Registry(), "-n", "project.max-locked-memory", "-i", "project", "group.staff");
        Assert.Equal(0, exit);
        Assert.Equal(
            "project: 10: group.staff\n" +
            "NAME    PRIVILEGE       VALUE    FLAG   ACTION                       RECIPIENT\n" +
            "project.max-locked-memory\n" +
            "        usage               0B\n" +
            "        privileged       508MB      -   deny                                 -\n" +
            "        system          16.0EB    max   deny                                 -\n",
            output);
    }

    [Fact]
    public void ParseableOutputAndUsage()
    {
        var r = Registry();
        Assert.Equal(Umem.Platform.Errno.None, r.TryChargeLockedMemory(r.GetProject(10), r.GetZone(0), 1, 8192, out var c));
        var (exit, output, _) = Run(r, "-P", "-i", "projid", "10");
        Assert.Equal(0, exit);
        Assert.Equal(
            "project: 10: group.staff\n" +
            "project.max-locked-memory usage 8192 - - -\n" +
            "project.max-locked-memory privileged 532676608 - deny -\n" +
            "project.max-locked-memory system 18446744073709551615 max deny -\n",
            output);
        Assert.Contains("usage           8.00KB", Run(r, "-i", "zone", "global").Out, StringComparison.Ordinal);
        ResourceControlRegistry.UnchargeLockedMemory(c);
    }

    [Fact]
    public void ReplacesAPrivilegedValue()
    {
        var r = Registry();
        var (exit, _, err) = Run(r, "-n", "project.max-locked-memory", "-v", "300M", "-r", "-i", "project", "group.staff");
        Assert.Equal(0, exit);
        Assert.Equal("", err);
        Assert.Equal(300UL << 20, r.GetProject(10).LockedMemory.Limit);

        Assert.Equal(0, Run(r, "-n", "zone.max-locked-memory", "-v", "1G", "-s", "--signal", "TERM", "-i", "zone", "0").Exit);
        var zone = r.GetZone(0).LockedMemory.PrivilegedValues.Single();
        Assert.Equal((1UL << 30, RctlSignal.SIGTERM), (zone.Value, zone.Signal));
        Assert.Contains("privileged      1.00GB      -   deny,signal=TERM", Run(r, "-i", "zone", "global").Out, StringComparison.Ordinal);

        Assert.Equal(0, Run(r, "-n", "zone.max-locked-memory", "-v", "1G", "-x", "-i", "zone", "0").Exit);
        Assert.True(r.GetZone(0).LockedMemory.IsUnlimited);
    }

    [Fact]
    public void ShowsAProcessesProjectAndZone()
    {
        var (exit, output, _) = Run(Registry(), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, exit);
        Assert.StartsWith("project: 3: default\n", output, StringComparison.Ordinal); // no user.root in this file
        Assert.Contains("zone: 0: global\n", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-i", "project")]                                              // no id
    [InlineData("-i", "task", "1")]                                            // unknown idtype
    [InlineData("-n", "process.max-locked-memory", "-i", "project", "3")]     // unknown control
    [InlineData("-n")]                                                         // missing value
    [InlineData("--bogus", "3")]                                               // unknown option
    [InlineData("-r", "-i", "project", "3")]                                   // -r without -n
    [InlineData("-r", "-n", "project.max-locked-memory", "-i", "project", "3")]           // -r without -v
    [InlineData("-r", "-s", "-n", "project.max-locked-memory", "-v", "1", "-i", "project", "3")]
    [InlineData("-r", "-n", "project.max-locked-memory", "-v", "12Q", "-i", "project", "3")]
    [InlineData("-r", "-t", "basic", "-n", "project.max-locked-memory", "-v", "1M", "-i", "project", "3")]
    [InlineData("-r", "-t", "system", "-n", "project.max-locked-memory", "-v", "1M", "-i", "project", "3")]
    [InlineData("-s", "--signal", "XRES", "-n", "project.max-locked-memory", "-v", "1M", "-i", "project", "3")]
    [InlineData("-v", "1M", "-i", "project", "3")]                             // -v without an operation
    [InlineData("-r", "-n", "zone.max-locked-memory", "-v", "1M", "-i", "project", "3")]  // zone control on a project
    [InlineData("abc")]                                                        // not a pid
    public void BadOptionsExitWith2(params string[] args)
    {
        var r = Registry();
        var (exit, output, err) = Run(r, args);
        Assert.Equal(2, exit);
        Assert.StartsWith("prctl: ", err, StringComparison.Ordinal);
        Assert.Equal("", output);
        Assert.True(r.GetProject(3).LockedMemory.IsUnlimited);
    }

    [Fact]
    public void FatalErrorsExitWith1()
    {
        Assert.Equal(1, Run(Registry(), "-i", "project", "nosuch").Exit);
        Assert.Equal(1, Run(Registry(), "-i", "zone", "99").Exit);
        Assert.Equal(1, Run(Registry(), int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).Exit);

        using var files = new TestFiles();
        string bad = files.Write("project", "default:3::::\nx:y::::\n");
        var command = PrctlCommand.Create();
        var err = new StringWriter();
        int exit = command.Parse(["--offline", "--project-file", bad, "-i", "project", "3"]).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = err });
        Assert.Equal(1, exit);
        Assert.Contains($"{bad}:2: projid:", err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void ANonRootCallerCannotReplace()
    {
        // The real CLI run as nobody: EPERM is a fatal error (exit 1). Everything nobody needs (the files and
        // the CLI's assemblies) is copied to a world-readable directory, wherever the checkout lives.
        using var files = new TestFiles();
        string project = files.Write("project", "default:3::::\n");
        string dir = Path.GetDirectoryName(project)!;
        foreach (string f in Directory.EnumerateFiles(AppContext.BaseDirectory).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        foreach (string f in Directory.EnumerateFiles(dir)) File.SetUnixFileMode(f, Readable);
        File.SetUnixFileMode(dir, Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        string cli = Path.Combine(dir, "umem.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("setpriv",
            $"--reuid=65534 --regid=65534 --clear-groups dotnet {cli} prctl --offline --project-file {project} -n project.max-locked-memory -r -v 1M -i project default")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
        psi.Environment["HOME"] = "/tmp";
        using var p = System.Diagnostics.Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 1, $"exit {p.ExitCode}: {stderr}");
        Assert.Contains("EPERM", stderr, StringComparison.Ordinal);
    }
}
