using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Umem.Client.Sync;

namespace Umem.Bench;

/// <summary>
/// Doorbell round trips between two processes (issue 7, path 3). This benchmark process rings a ping doorbell
/// and waits on a pong doorbell; the C# peer (tests/Umem.SyncPeer) waits for each ping and rings pong.
/// Baselines, measured in the same run (issue 17): two C processes doing the same round trips with the C client's
/// doorbell (clients/c/umem_sync.c: the same spin budget and sleeping, so the ratio compares like with like), and,
/// for reference, the classic floors: spinning on a shared word with no sleeping at all, FUTEX_WAKE/FUTEX_WAIT on
/// every message, and a Unix socket. One operation = one round trip.
/// </summary>
[Config(typeof(SyncBenchConfig))]
public class DoorbellBenchmarks
{
    private const int SpinningRoundTrips = 10_000;
    private const int SleepingRoundTrips = 500;

    private SealedSharedMemory? _memory;
    private SharedDoorbell? _ping;
    private SharedDoorbell? _pong;
    private uint _last;
    private Process? _peer;
    private NativeFloor? _floor;

    [GlobalSetup(Targets = [nameof(CSharpSpinning)])]
    public void SetupSpinning() => StartCSharpPeer(SharedDoorbell.DefaultSpinCount);

    [GlobalSetup(Targets = [nameof(CSharpSleeping)])]
    public void SetupSleeping() => StartCSharpPeer(0);

    [GlobalSetup(Targets = [nameof(CDoorbellSpinning)])]
    public void SetupCDoorbellSpinning() => _floor = new NativeFloor("doorbell");

    [GlobalSetup(Targets = [nameof(CDoorbellSleeping)])]
    public void SetupCDoorbellSleeping() => _floor = new NativeFloor("doorbell-sleep");

    [GlobalSetup(Targets = [nameof(CSpinningFloor)])]
    public void SetupSpinningFloor() => _floor = new NativeFloor("spin");

    [GlobalSetup(Targets = [nameof(CFutexFloor)])]
    public void SetupFutexFloor() => _floor = new NativeFloor("futex");

    [GlobalSetup(Targets = [nameof(CUnixSocket)])]
    public void SetupSocket() => _floor = new NativeFloor("socket");

    [GlobalCleanup]
    public void Cleanup()
    {
        _floor?.Dispose();
        _peer?.Kill();
        BenchPeers.Stop(_peer);
        _memory?.Dispose();
    }

    [BenchmarkCategory("busy"), Benchmark(Baseline = true, OperationsPerInvoke = SpinningRoundTrips)]
    public void CDoorbellSpinning() => _floor!.Run(SpinningRoundTrips);

    [BenchmarkCategory("busy"), Benchmark(OperationsPerInvoke = SpinningRoundTrips)]
    public void CSpinningFloor() => _floor!.Run(SpinningRoundTrips);

    [BenchmarkCategory("busy"), Benchmark(OperationsPerInvoke = SpinningRoundTrips)]
    public void CSharpSpinning() => PingPong(SpinningRoundTrips);

    [BenchmarkCategory("busy"), Benchmark(OperationsPerInvoke = SleepingRoundTrips)]
    public void CUnixSocket() => _floor!.Run(SleepingRoundTrips);

    [BenchmarkCategory("sleeping"), Benchmark(Baseline = true, OperationsPerInvoke = SleepingRoundTrips)]
    public void CDoorbellSleeping() => _floor!.Run(SleepingRoundTrips);

    [BenchmarkCategory("sleeping"), Benchmark(OperationsPerInvoke = SleepingRoundTrips)]
    public void CFutexFloor() => _floor!.Run(SleepingRoundTrips);

    [BenchmarkCategory("sleeping"), Benchmark(OperationsPerInvoke = SleepingRoundTrips)]
    public void CSharpSleeping() => PingPong(SleepingRoundTrips);

    private void PingPong(int roundTrips)
    {
        var ping = _ping!;
        var pong = _pong!;
        uint last = _last;
        for (int i = 0; i < roundTrips; i++)
        {
            ping.Ring();
            last = pong.Wait(last);
        }
        _last = last;
    }

    private void StartCSharpPeer(int spinCount)
    {
        _memory = new SealedSharedMemory(4096, "doorbell", populate: true);
        _ping = new SharedDoorbell(_memory.Address) { SpinCount = spinCount };
        _pong = new SharedDoorbell(_memory.Address + 64) { SpinCount = spinCount };
        _peer = BenchPeers.StartCSharp("doorbell-echo", _memory.ProcPath, spinCount.ToString(CultureInfo.InvariantCulture), "0");
        // One round trip with a guard, so a peer that failed to start is an error and not a hang.
        _ping.Ring();
        if (!_pong.TryWait(0, BenchPeers.Guard, out _last))
            throw new TimeoutException($"the C# peer did not answer within {BenchPeers.Guard}");
    }
}
