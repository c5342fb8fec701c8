using Umem.Tests.Host;

namespace Umem.Tests.Cli;

/// <summary>`umem host` as a daemon: SIGHUP re-reads the configuration (a bad file refused whole, the host goes on), SIGTERM stops it cleanly.</summary>
public sealed class HostSignalTests : IDisposable
{
    private readonly string _dir = TestHost.NewDirectory();

    [Fact]
    public void SighupReloadsTheProjectFileAndABadOneChangesNothing()
    {
        string project = Path.Combine(_dir, "project");
        File.WriteAllText(project, "system:0::::\ndefault:3::::\n");
        string dev = Path.Combine(_dir, "dev");
        using var host = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "host", "--dev-dir", dev, "-d", "xx", "--project-file", project]);
        host.ReadUntil("umem host: " + Path.Combine(dev, "xx0"));

        File.WriteAllText(project, "system:0::::\nbroken line\n");
        host.Signal("HUP");
        string refused = host.ReadUntil(l => l.Contains("reload", StringComparison.Ordinal));
        Assert.Contains("reload refused, the running values stay", refused, StringComparison.Ordinal);
        Assert.Contains($"{project}:2", refused, StringComparison.Ordinal); // file:line of the bad line

        File.WriteAllText(project, "system:0::::\ndefault:3::::\nbuild:100::::\n");
        host.Signal("HUP");
        Assert.Contains("reloaded the project and zones files", host.ReadUntil(l => l.Contains("reload", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dev, "xx0")), "the host still serves after two SIGHUPs");

        host.Signal("TERM");
        Assert.Equal(0, host.WaitForExit());
        Assert.False(File.Exists(Path.Combine(dev, "xx0")), "a stopped host removes its sockets");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
