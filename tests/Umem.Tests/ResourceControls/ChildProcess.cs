using System.Diagnostics;

namespace Umem.Tests.ResourceControls;

/// <summary>A real child process for a test, killed and reaped on dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public Process Process => _process;

    public static ChildProcess Start(string file, string args)
    {
        var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
        return new ChildProcess(p);
    }

    /// <summary>
    /// Starts <c>PREFIX sh -c 'echo ready; exec sleep 60'</c> and returns once the shell printed "ready", i.e.
    /// after PREFIX (setpriv, unshare) has done its work.
    /// </summary>
    public static ChildProcess StartReady(string prefix)
    {
        var child = Start("sh", $"-c \"{prefix} sh -c 'echo ready; exec sleep 60'\"");
        string? line = child._process.StandardOutput.ReadLine();
        Assert.Equal("ready", line);
        return child;
    }

    /// <summary>Waits (generously, as a failure guard) for the child to exit.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
