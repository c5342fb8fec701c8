using System.Diagnostics;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;
using Umem.Client.Sync;

namespace Umem.Bench;

/// <summary>
/// Short jobs for the doorbell and ring benchmarks (the machine has 2 CPUs shared with builds): one launch, a
/// few warm-up and measured iterations, median and ratio columns, each category compared with its baseline.
/// </summary>
public sealed class SyncBenchConfig : ManualConfig
{
    public SyncBenchConfig()
    {
        if (!QuickRun.IsOn)
        {
            AddJob(Job.Default
                .WithLaunchCount(1)
                .WithWarmupCount(4)
                .WithIterationCount(15)
                .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        }
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        WithOption(ConfigOptions.JoinSummary, true);
    }
}

/// <summary>The peer processes of the benchmarks: the C# Umem.SyncPeer, and the C programs of bench/native.</summary>
internal static class BenchPeers
{
    /// <summary>How long a benchmark waits for a peer before it calls the run broken.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> s_native = new(BuildNative);

    public static string RepositoryRoot { get; } = FindRoot();

    public static Process StartCSharp(params string[] args)
    {
        return Start(Scale.ScalePaths.TestProgram("Umem.SyncPeer", "Umem.SyncPeer"), args);
    }

    public static Process StartNative(string program, params string[] args) => Start(Path.Combine(s_native.Value, program), args);

    public static void Stop(Process? process)
    {
        if (process == null)
            return;
        if (!process.WaitForExit(TimeSpan.FromSeconds(2)))
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }

    private static Process Start(string file, string[] args) =>
        Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })
        ?? throw new InvalidOperationException($"could not start {file}");

    private static string FindRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Umem.slnx")))
                    return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Umem.slnx above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }

    private static string BuildNative()
    {
        string script = Path.Combine(RepositoryRoot, "bench", "native", "build.sh");
        using var build = Process.Start("/bin/sh", [script]);
        build.WaitForExit();
        return build.ExitCode == 0
            ? Path.Combine(RepositoryRoot, "bench", "native", "bin")
            : throw new InvalidOperationException($"{script} failed with exit code {build.ExitCode}");
    }
}

/// <summary>
/// Drives bench/native/floors: two C processes do a batch (round trips or bytes) between themselves; this
/// process writes the batch size, rings the command doorbell and sleeps on the done doorbell, so it takes no
/// CPU from the pair while they run. The cost per batch (two futex wake-ups, ~50 µs) is amortised over the batch.
/// </summary>
internal sealed class NativeFloor : IDisposable
{
    private readonly SealedSharedMemory _control = new(4096, "floor-control", populate: true);
    private readonly SharedDoorbell _command;
    private readonly SharedDoorbell _done;
    private readonly Process _process;
    private uint _lastDone;

    public NativeFloor(string mode)
    {
        _command = new SharedDoorbell(_control.Address) { SpinCount = 0 };
        _done = new SharedDoorbell(_control.Address + 64) { SpinCount = 0 };
        _process = BenchPeers.StartNative("floors", mode, _control.ProcPath);
    }

    public unsafe void Run(long batch)
    {
        Volatile.Write(ref *(long*)(_control.Address + 128), batch);
        _command.Ring();
        if (!_done.TryWait(_lastDone, BenchPeers.Guard, out _lastDone))
            throw new TimeoutException($"the C floor did not finish a batch of {batch} within {BenchPeers.Guard}");
    }

    public unsafe void Dispose()
    {
        Volatile.Write(ref *(long*)(_control.Address + 128), -1L);   // a negative batch: both processes exit
        _command.Ring();
        BenchPeers.Stop(_process);
        _control.Dispose();
    }
}
