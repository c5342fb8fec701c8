namespace Umem.Tests.Host;

/// <summary>
/// The real umemd: <c>dotnet umem.dll host --dev-dir DIR/dev -d DRIVER...</c> as a child process (root), its device
/// directory in a fresh directory every uid can enter. Driving it from this process never blocks the host: its
/// requests are served in its own process.
/// </summary>
internal sealed class CliHost : IDisposable
{
    private readonly ChildProcess _process;
    private readonly string _dir;

    private CliHost(ChildProcess process, string dir)
    {
        _process = process;
        _dir = dir;
    }

    internal int Pid => _process.Pid;

    internal string DeviceDirectory => Path.Combine(_dir, "dev");

    /// <summary>The directory holding the device directory and the admin socket (umem's --host-dir).</summary>
    internal string HostDirectory => _dir;

    internal string StandardError => _process.StandardError;

    /// <summary>Starts the host with <paramref name="drivers"/> (paths or shipped names) and waits until <paramref name="nodes"/> are published.</summary>
    internal static CliHost Start(string[] drivers, params string[] nodes) => Start(drivers, [], null, nodes);

    /// <summary>
    /// The same with more `umem host` options (<paramref name="hostOptions"/>), and under prlimit(1) with
    /// RLIMIT_NOFILE <paramref name="nofile"/> ("SOFT:HARD") when given.
    /// </summary>
    internal static CliHost Start(string[] drivers, string[] hostOptions, string? nofile, params string[] nodes) =>
        Start(drivers, hostOptions, nofile, [], nodes);

    /// <summary>The same with NAME=VALUE settings added to the host's environment (<paramref name="environment"/>, through env(1)).</summary>
    internal static CliHost Start(string[] drivers, string[] hostOptions, string? nofile, string[] environment, params string[] nodes)
    {
        string dir = TestHost.NewDirectory();
        string[] command = [.. environment.Length > 0 ? ["env", .. environment] : Array.Empty<string>(), ChildProcess.DotNet, TestPaths.CliDll,
            "host", "--dev-dir", Path.Combine(dir, "dev"), .. hostOptions, .. drivers.SelectMany(d => new[] { "-d", d })];
        var process = nofile is null
            ? ChildProcess.Start(command[0], command[1..])
            : ChildProcess.Start("prlimit", [$"--nofile={nofile}", "--", .. command]);
        var host = new CliHost(process, dir);
        try
        {
            // `umem host` lists each node ("umem host: PATH (owner mode)") once its socket is listening.
            foreach (string node in nodes) process.ReadUntil($"umem host: {host.NodePath(node)} ");
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    internal string NodePath(string node) => Path.Combine(DeviceDirectory, node);

    /// <summary>SIGTERM: the graceful stop (connections ended, modules unloaded, leaks reported); returns the exit code.</summary>
    internal int Stop()
    {
        _process.Signal("TERM");
        return _process.WaitForExit();
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a socket of a killed host may linger.
        }
    }
}
