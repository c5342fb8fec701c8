using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Umem.Tests.CClient;

/// <summary>
/// Builds the C client with clients/c/build.sh (64-bit, and 32-bit with -m32) and runs its tests through the
/// real path: the wire vectors, the library against a separate fake_host process over a real SEQPACKET socket
/// with real memfds, and the greet example with a 64-bit and a 32-bit process sharing one page. The 32-bit
/// programs run through clients/c/run.sh (natively where the kernel can, else under qemu-i386), and once more
/// under qemu-i386 explicitly, so the emulated path is covered on every machine that has it.
/// </summary>
[Collection(CBuild.Collection)]
public sealed partial class CClientBuildTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(120); // a hang guard, not a timing assertion

    private static readonly Lazy<string> s_build = new(BuildAll);

    public static TheoryData<string> Models => ["64", "32", "32-qemu"];

    [Theory]
    [MemberData(nameof(Models))]
    public void WireVectorsPass(string model)
    {
        var result = Runner.For(model).Run("test_vectors", Path.Combine(RepoRoot, "tests", "vectors", "protocol.txt"));
        AssertTap(result, minimumPassed: 100);
        Assert.Contains($"# sizeof(void *) = {Bits(model) / 8}", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LibraryWorksAgainstAFakeHostProcess(string model)
    {
        var runner = Runner.For(model);
        using var host = FakeHost.Start();
        var result = runner.Run("test_e2e", host.Socket);
        AssertTap(result, minimumPassed: 100);
        Assert.Contains($"# sizeof(void *) = {Bits(model) / 8}", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("32")]
    [InlineData("32-qemu")]
    public void GreetersOf64And32BitsMeetOnOnePage(string model32)
    {
        var runner32 = Runner.For(model32);
        var runner64 = Runner.For("64");
        using var host = FakeHost.Start();
        using var alice = runner64.Start("umem_greet", host.Socket, "alice", "2", "60000");
        using var bob = runner32.Start("umem_greet", host.Socket, "bob", "2", "60000");
        var a = alice.Finish();
        var b = bob.Finish();

        foreach (var (r, self, bits, other, otherBits, name, otherName) in new[]
        {
            (a, alice.Pid, 64, bob.Pid, 32, "alice", "bob"),
            (b, bob.Pid, 32, alice.Pid, 64, "bob", "alice"),
        })
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains($"seen pid={self} bits={bits} greeting=hello from {name}\n", r.Stdout, StringComparison.Ordinal);
            Assert.Contains($"seen pid={other} bits={otherBits} greeting=hello from {otherName}\n", r.Stdout, StringComparison.Ordinal);
            Assert.Equal(2, r.Stdout.Split('\n').Count(l => l.StartsWith("seen ", StringComparison.Ordinal)));
            Assert.Matches(SelfLine(self, bits), r.Stdout);
        }
    }

    [Fact]
    public void GreeterAloneTimesOutWithExitCode1()
    {
        using var host = FakeHost.Start();
        var r = Runner.For("64").Run("umem_greet", host.Socket, "carol", "2", "200");
        Assert.True(r.ExitCode == 1, r.ToString());   // a check that did not hold (docs/operating.md, "Exit status")
        Assert.Contains("saw 1 of 2 greetings in 200 ms", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith("seen ", StringComparison.Ordinal));
        Assert.Contains("greeting=hello from carol", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void GreeterNamesTheErrnoOfAMissingDevice()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"umem-missing-{Guid.NewGuid():N}");
        var r = Runner.For("64").Run("umem_greet", missing, "dave", "1", "10");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("ENOENT", r.Stderr, StringComparison.Ordinal);
    }

    private static Regex SelfLine(int pid, int bits) => new($"(?m)^self pid={pid} bits={bits} slot=[0-9]+ addr=0x[0-9a-f]+$");

    private static int Bits(string model) => model == "64" ? 64 : 32;

    /// <summary>Each C test binary ends with "1..N" and "# P passed, F failed" and exits 0 only if F is 0.</summary>
    private static void AssertTap(ProcessResult r, int minimumPassed)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("not ok", r.Stdout, StringComparison.Ordinal);
        var summary = TapSummary().Match(r.Stdout);
        Assert.True(summary.Success, r.ToString());
        Assert.Equal("0", summary.Groups[2].Value);
        Assert.True(int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= minimumPassed, r.ToString());
    }

    [GeneratedRegex(@"(?m)^# (\d+) passed, (\d+) failed$")]
    private static partial Regex TapSummary();

    private static string RepoRoot => TestPaths.RepoRoot;

    private static string CDir => Path.Combine(RepoRoot, "clients", "c");

    /// <summary>Runs build.sh once for the whole class; its output explains any failure.</summary>
    private static string BuildAll()
    {
        var r = ProcessRun.Run("bash", [Path.Combine(CDir, "build.sh")]);
        Assert.True(r.ExitCode == 0, "clients/c/build.sh failed\n" + r);
        return CDir;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, program)));

    /// <summary>How to start the programs of one build: run.sh, or qemu-i386 explicitly.</summary>
    private sealed class Runner(string[] prefix, string buildDir, string[] foreign)
    {
        /// <summary>What runs a program of this model built elsewhere (run.sh only knows build/): nothing, or qemu-i386.</summary>
        public string[] Foreign => foreign;

        /// <summary>"-m32" for a 32-bit model, else nothing: the compiler flag of the model.</summary>
        public string[] CFlags { get; init; } = [];

        public static Runner For(string model)
        {
            string c = s_build.Value;
            string dir = Path.Combine(c, "build", model == "64" ? "64" : "32");
            if (model != "64" && !File.Exists(Path.Combine(dir, "test_vectors")))
                Assert.Skip("gcc-multilib is not installed: gcc -m32 cannot link, so build.sh built no 32-bit client");
            if (model == "32-qemu")
            {
                if (!OnPath("qemu-i386"))
                    Assert.Skip("qemu-i386 is not installed (Debian: apt-get install qemu-user)");
                return new Runner(["qemu-i386", "-L", "/"], dir, ["qemu-i386", "-L", "/"]) { CFlags = ["-m32"] };
            }
            if (model == "64")
                return new Runner(["bash", Path.Combine(c, "run.sh")], dir, []);
            var how = ProcessRun.Run("bash", [Path.Combine(c, "run.sh"), "--check", dir]);
            if (how.ExitCode != 0)
                Assert.Skip("this kernel cannot run 32-bit binaries and qemu-i386 is not installed (apt-get install qemu-user)");
            string[] foreign = how.Stdout.Trim() == "native" ? [] : ["qemu-i386", "-L", "/"];
            return new Runner(["bash", Path.Combine(c, "run.sh")], dir, foreign) { CFlags = ["-m32"] };
        }

        /// <summary>A program of this build as a child process driven through its stdin and stdout.</summary>
        public ChildProcess Child(string program, params string[] args) =>
            ChildProcess.Start(prefix[0], [.. prefix.Skip(1), Path.Combine(buildDir, program), .. args]);

        public ProcessResult Run(string program, params string[] args)
        {
            using var p = Start(program, args);
            return p.Finish();
        }

        public ProcessRun Start(string program, params string[] args) =>
            ProcessRun.Start(prefix[0], [.. prefix.Skip(1), Path.Combine(buildDir, program), .. args]);

        /// <summary>
        /// A program of this build, unaware of Umem, with this build's libumem-preload.so in LD_PRELOAD: set in its own
        /// environment (under qemu-i386 with -E, so that the emulator itself does not load it).
        /// </summary>
        public ProcessResult RunPreloaded(string program, params string[] args)
        {
            using var p = StartPreloaded(program, args);
            return p.Finish();
        }

        /// <summary>As <see cref="RunPreloaded"/>, returning at once: the caller finishes it.</summary>
        public ProcessRun StartPreloaded(string program, params string[] args)
        {
            string lib = Path.Combine(buildDir, "libumem-preload.so"), path = Path.Combine(buildDir, program);
            return foreign.Length == 0
                ? ProcessRun.Start(path, args, new Dictionary<string, string> { ["LD_PRELOAD"] = lib })
                : ProcessRun.Start(foreign[0], [.. foreign.Skip(1), "-E", $"LD_PRELOAD={lib}", path, .. args]);
        }

        /// <summary>A program from elsewhere (of this build's model) with this build's libumem-preload.so in LD_PRELOAD.</summary>
        public ProcessResult RunPreloadedCommand(string file, params string[] args)
        {
            using var p = StartPreloadedCommand(file, args);
            return p.Finish();
        }

        /// <summary>As <see cref="RunPreloadedCommand"/>, returning at once: the caller finishes it.</summary>
        public ProcessRun StartPreloadedCommand(string file, params string[] args) =>
            ProcessRun.Start(file, args, new Dictionary<string, string> { ["LD_PRELOAD"] = Path.Combine(buildDir, "libumem-preload.so") });

        /// <summary>The program under prlimit(1) with RLIMIT_NOFILE set to <paramref name="nofile"/> ("SOFT:HARD").</summary>
        public ProcessResult RunWithFileLimit(string nofile, string program, params string[] args)
        {
            using var p = ProcessRun.Start("prlimit", [$"--nofile={nofile}", "--", .. prefix, Path.Combine(buildDir, program), .. args]);
            return p.Finish();
        }
    }

    /// <summary>A fake_host process serving a socket in a fresh directory; killed with its children on Dispose.</summary>
    private sealed class FakeHost : IDisposable
    {
        private readonly Process _process;
        private readonly string _dir;

        private FakeHost(Process process, string dir)
        {
            _process = process;
            _dir = dir;
        }

        public string Socket => Path.Combine(_dir, "xx0");

        public static FakeHost Start()
        {
            string dir = Directory.CreateTempSubdirectory("umem-fakehost").FullName;
            var psi = new ProcessStartInfo(Path.Combine(s_build.Value, "build", "64", "fake_host"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.ArgumentList.Add(Path.Combine(dir, "xx0"));
            psi.ArgumentList.Add(((int)s_guard.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var p = Process.Start(psi)!;
            var host = new FakeHost(p, dir);
            var ready = p.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask();
            if (!ready.Wait(s_guard) || ready.Result != "ready")
            {
                host.Dispose();
                Assert.Fail($"fake_host did not start: {p.StandardError.ReadToEnd()}");
            }
            return host;
        }

        public void Dispose()
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            _process.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }
}

internal sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"$ {Command}\nexit code {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>A started child process whose output is collected as it comes, so a full pipe never blocks it.</summary>
internal sealed class ProcessRun : IDisposable
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(120);
    private readonly Process _process;
    private readonly Task<string> _stdout, _stderr;
    private readonly string _command;

    private ProcessRun(Process process, string command)
    {
        _process = process;
        _command = command;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public int Pid => _process.Id;

    public static ProcessRun Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        return new ProcessRun(Process.Start(psi)!, string.Join(' ', [file, .. psi.ArgumentList]));
    }

    public static ProcessResult Run(string file, IEnumerable<string> args)
    {
        using var p = Start(file, args);
        return p.Finish();
    }

    public ProcessResult Finish()
    {
        if (!_process.WaitForExit(s_guard))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"{_command} did not finish within {s_guard.TotalSeconds} s");
        }
        _process.WaitForExit();
        return new ProcessResult(_command, _process.ExitCode, _stdout.Result, _stderr.Result);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
