using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Umem.Bench.Scale;

/// <summary>The coordinator's side of one <see cref="ScaleWorker"/> process: commands in, one answer line out.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private WorkerProcess(Process process, int index)
    {
        _process = process;
        Index = index;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
    }

    public int Index { get; }

    public int Pid => _process.Id;

    /// <summary>The connections and mappings this worker holds, as it last answered.</summary>
    public int Connections { get; private set; }

    public int Mappings { get; private set; }

    public static WorkerProcess Start(int index, int count, int cookies, string node)
    {
        var psi = new ProcessStartInfo(ScalePaths.DotNet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { ScalePaths.BenchAssembly, "scale-worker", Str(index), Str(count), Str(cookies), node })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new WorkerProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start a scale worker"), index);
    }

    public Task WarmAsync(int n, TimeSpan guard) => SendAsync($"warm {n}", guard);

    public async Task OpenAsync(int n, TimeSpan guard) => Connections = int.Parse(await SendAsync($"open {n}", guard), CultureInfo.InvariantCulture);

    public async Task MapAsync(int target, TimeSpan guard) => Mappings = int.Parse(await SendAsync($"map {target}", guard), CultureInfo.InvariantCulture);

    public async Task UnmapAsync(TimeSpan guard)
    {
        await SendAsync("unmap", guard);
        Mappings = 0;
    }

    public async Task CloseAsync(TimeSpan guard)
    {
        await SendAsync("close", guard);
        Connections = 0;
    }

    /// <summary>RssAnon, RSS, page-table bytes and VMAs of the worker.</summary>
    public async Task<WorkerStats> StatsAsync(TimeSpan guard)
    {
        var w = (await SendAsync("stats", guard)).Split(' ');
        return new WorkerStats(long.Parse(w[0], CultureInfo.InvariantCulture), long.Parse(w[1], CultureInfo.InvariantCulture),
            long.Parse(w[2], CultureInfo.InvariantCulture), int.Parse(w[3], CultureInfo.InvariantCulture));
    }

    /// <summary>"exit": the worker leaves without releasing anything itself; the kernel closes its sockets.</summary>
    public void Exit(TimeSpan guard)
    {
        _process.StandardInput.WriteLine("exit");
        _process.StandardInput.Flush();
        if (!_process.WaitForExit(guard)) throw new TimeoutException($"worker {Index} did not exit within {guard.TotalSeconds} s");
    }

    /// <summary>SIGKILL: a client that dies with its connections and mappings live.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    private async Task<string> SendAsync(string command, TimeSpan guard)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(guard);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"worker {Index}: no answer to \"{command}\" within {guard.TotalSeconds} s; stderr: {StandardError}");
        }
        if (line is null) throw new InvalidOperationException($"worker {Index} exited during \"{command}\"; stderr: {StandardError}");
        if (line.StartsWith("ok ", StringComparison.Ordinal)) return line[3..];
        throw new InvalidOperationException($"worker {Index}: \"{command}\": {line}");
    }

    private string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}

/// <summary>A worker's memory: anonymous and total resident bytes, page tables, VMAs.</summary>
internal sealed record WorkerStats(long RssAnon, long Rss, long PageTables, int Maps);
