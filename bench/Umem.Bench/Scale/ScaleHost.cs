using System.Diagnostics;
using Umem.Platform;

namespace Umem.Bench.Scale;

/// <summary>
/// The real device host in a child process: <c>dotnet umem.dll host --dev-dir DIR -d Umem.Bench.ScaleDriver.dll</c>,
/// stopped with SIGTERM, when it disconnects every client, unloads the driver and reports leaks on stderr.
/// </summary>
internal sealed class ScaleHost : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stderr = [];
    private readonly Queue<string> _stdoutTail = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stdoutLines;

    private ScaleHost(Process process, string nodePath)
    {
        _process = process;
        NodePath = nodePath;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stdoutTail)
            {
                _stdoutLines++;
                _stdoutTail.Enqueue(e.Data);
                if (_stdoutTail.Count > 40) _stdoutTail.Dequeue();
            }
            // `umem host` reports its GC settings, then lists each node's path once its driver is loaded.
            if (e.Data.StartsWith(GcPrefix, StringComparison.Ordinal)) GcLine = e.Data[GcPrefix.Length..];
            if (e.Data.StartsWith($"umem host: {NodePath} ", StringComparison.Ordinal)) _ready.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_stderr) _stderr.Add(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private const string GcPrefix = "umem host: GC ";

    public int Pid => _process.Id;

    /// <summary>The GC settings the host reported at start (its `umem host: GC ...` line, without the prefix), or null.</summary>
    public string? GcLine { get; private set; }

    /// <summary>The scale driver's node socket.</summary>
    public string NodePath { get; }

    /// <summary>What the host wrote to stderr so far.</summary>
    public IReadOnlyList<string> StandardError
    {
        get
        {
            lock (_stderr) return [.. _stderr];
        }
    }

    /// <summary>Lines the host logged to stdout (one per node, per trusted client, ...).</summary>
    public int StandardOutputLines
    {
        get
        {
            lock (_stdoutTail) return _stdoutLines;
        }
    }

    /// <summary>
    /// Starts the host in <paramref name="devDir"/>, with <paramref name="environment"/> (NAME=VALUE) added to its
    /// environment, and waits until the scale node is published.
    /// </summary>
    public static ScaleHost Start(string devDir, IReadOnlyList<string> environment, TimeSpan guard)
    {
        // Every stream redirected: the host must hold none of this process's own (a test reading them to the end).
        var psi = new ProcessStartInfo(ScalePaths.DotNet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { ScalePaths.UmemCli, "host", "--dev-dir", devDir, "-d", ScalePaths.ScaleDriver })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (string setting in environment)
        {
            int eq = setting.IndexOf('=', StringComparison.Ordinal);
            psi.Environment[setting[..eq]] = setting[(eq + 1)..];
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start umem host");
        var host = new ScaleHost(process, Path.Combine(devDir, ScaleDriver.ScaleIoctl.NodeName));
        var exited = process.WaitForExitAsync();
        int which = Task.WaitAny([host._ready.Task, exited], guard);
        if (which != 0)
        {
            string why = which == 1 ? $"exited with code {process.ExitCode}" : $"did not publish {host.NodePath} within {guard.TotalSeconds} s";
            host.Dispose();
            throw new InvalidOperationException($"umem host {why}: {host.Describe()}");
        }
        return host;
    }

    /// <summary>SIGTERM, then waits for the exit; returns the exit code.</summary>
    public int Stop(TimeSpan guard)
    {
        if (!_process.HasExited && Interop.kill(_process.Id, Interop.SIGTERM) != 0)
            throw new ErrnoException(Interop.LastErrno, $"kill({_process.Id}, SIGTERM)");
        if (!_process.WaitForExit(guard))
            throw new TimeoutException($"umem host did not exit within {guard.TotalSeconds} s of SIGTERM: {Describe()}");
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>The last stdout lines and all of stderr, for an error message.</summary>
    public string Describe()
    {
        string tail;
        lock (_stdoutTail) tail = string.Join('\n', _stdoutTail);
        return $"stdout (last lines):\n{tail}\nstderr:\n{string.Join('\n', StandardError)}";
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
