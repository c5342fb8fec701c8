using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Umem.Kernel.Locking;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Bench;

/// <summary>
/// ddi_umem_lock + ddi_umem_unlock of 1 and 256 pages beside raw mlock + munlock of the same pages in the same
/// run; and the charge path alone (project + zone check-and-charge, then uncharge) from 1 and 2 threads.
/// </summary>
[Config(typeof(LockBenchConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MemoryDiagnoser]
public class LockBenchmarks
{
    private const int ChargeOps = 200_000;

    private ResourceControlRegistry _registry = null!;
    private UmemProcess _process = null!;
    private RegisteredBuffer _buffer = null!;
    private long _page;
    private RctlEntity _p1 = null!, _p2 = null!, _global = null!, _z1 = null!, _z2 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _page = SystemPage.Size;
        // Finite limits everywhere, so every lock really is charged (with both unlimited nothing would be).
        _registry = new ResourceControlRegistry(
            ProjectDatabase.Parse(
                "user.root:1::::project.max-locked-memory=(privileged,17179869184,deny)\n" +
                "a:100::::project.max-locked-memory=(privileged,17179869184,deny)\n" +
                "b:101::::project.max-locked-memory=(privileged,17179869184,deny)\n", "bench.project"),
            ZoneDatabase.Parse(
                "global:0::zone.max-locked-memory=(privileged,17179869184,deny)\n" +
                "z1:1::zone.max-locked-memory=(privileged,17179869184,deny)\n" +
                "z2:2::zone.max-locked-memory=(privileged,17179869184,deny)\n", "bench.zones"),
            UserDatabase.Load());
        _process = UmemProcess.CreateSelf(_registry);
        _buffer = _process.AllocateBuffer(256 * _page);
        (_p1, _p2) = (_registry.GetProject(100), _registry.GetProject(101));
        (_global, _z1, _z2) = (_registry.GetZone(0), _registry.GetZone(1), _registry.GetZone(2));
    }

    [GlobalCleanup]
    public void Cleanup() => _process.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("1 page")]
    public int RawMlock1Page() => RawMlock(1);

    [Benchmark, BenchmarkCategory("1 page")]
    public void Lock1Page() => UmemLock.Lock(_process, _buffer.UserAddress, _page, UmemLockFlags.Read).Unlock();

    [Benchmark(Baseline = true), BenchmarkCategory("256 pages")]
    public int RawMlock256Pages() => RawMlock(256);

    [Benchmark, BenchmarkCategory("256 pages")]
    public void Lock256Pages() => UmemLock.Lock(_process, _buffer.UserAddress, 256 * _page, UmemLockFlags.Read).Unlock();

    [Benchmark(Baseline = true, OperationsPerInvoke = ChargeOps), BenchmarkCategory("charge")]
    public void Charge1Thread() => ChargeLoop(_p1, _z1);

    [Benchmark(OperationsPerInvoke = ChargeOps), BenchmarkCategory("charge")]
    public void Charge2ThreadsOwnZones() => Parallel.Invoke(() => ChargeLoop(_p1, _z1), () => ChargeLoop(_p2, _z2));

    [Benchmark(OperationsPerInvoke = ChargeOps), BenchmarkCategory("charge")]
    public void Charge2ThreadsSharedZone() => Parallel.Invoke(() => ChargeLoop(_p1, _global), () => ChargeLoop(_p2, _global));

    [Benchmark(OperationsPerInvoke = ChargeOps), BenchmarkCategory("charge")]
    public void Charge2ThreadsSameProject() => Parallel.Invoke(() => ChargeLoop(_p1, _z1), () => ChargeLoop(_p1, _z1));

    private int RawMlock(int pages)
    {
        nuint len = (nuint)(pages * _page);
        if (Interop.mlock(_buffer.HostAddress, len) != 0 || Interop.munlock(_buffer.HostAddress, len) != 0)
            throw new ErrnoException(Interop.LastErrno, "mlock/munlock");
        return pages;
    }

    /// <summary>The charge variants: the (project, zone) each thread charges (also run by Interleaved/ChargeScaling).</summary>
    internal IReadOnlyList<(string Name, (RctlEntity Project, RctlEntity Zone)[] Threads)> ChargeVariants() =>
    [
        ("1 thread", [(_p1, _z1)]),
        ("2 threads, own project and zone", [(_p1, _z1), (_p2, _z2)]),
        ("2 threads, own projects, one zone", [(_p1, _global), (_p2, _global)]),
        ("2 threads, same project and zone", [(_p1, _z1), (_p1, _z1)]),
    ];

    private void ChargeLoop(RctlEntity project, RctlEntity zone) => ChargeLoop(project, zone, ChargeOps);

    internal void ChargeLoop(RctlEntity project, RctlEntity zone, int ops)
    {
        for (int i = 0; i < ops; i++)
        {
            if (_registry.TryChargeLockedMemory(project, zone, 1, 4096, out var charge) != Errno.None)
                throw new InvalidOperationException("denied");
            ResourceControlRegistry.UnchargeLockedMemory(charge);
        }
    }
}

/// <summary>The locking suite's own job (2 launches of 15 iterations: its numbers are small and noisy), except in a quick run.</summary>
public sealed class LockBenchConfig : ManualConfig
{
    public LockBenchConfig()
    {
        if (!QuickRun.IsOn) AddJob(Job.Default.WithLaunchCount(2).WithWarmupCount(3).WithIterationCount(15));
    }
}
