using BenchmarkDotNet.Attributes;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Memory;

/// <summary>
/// How released pageable backing is best re-zeroed for reuse: cleared in place, or punched out (madvise
/// MADV_REMOVE over the range, or fallocate PUNCH_HOLE per memfd), each followed by the next user touching every
/// page. Decides <c>UmemBacking.ClearLimitBytes</c>.
/// </summary>
[MemoryDiagnoser]
public class ZeroingBenchmarks
{
    private UmemBacking _backing = null!;

    /// <summary>Pages of the backing (one memfd per page, the default grant unit).</summary>
    [Params(64, 256, 1024)]
    public int Pages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        long size = Pages * (long)SystemPage.Size;
        _backing = UmemBacking.Create("umem-bench-zero", size, SystemPage.Size, locked: false);
        TouchAll();
    }

    [GlobalCleanup]
    public void Cleanup() => _backing.Dispose();

    [Benchmark(Baseline = true, Description = "clear in place + touch")]
    public void Clear()
    {
        _backing.Clear();
        TouchAll();
    }

    [Benchmark(Description = "madvise(MADV_REMOVE) + touch")]
    public void MadviseRemove()
    {
        if (Interop.madvise(_backing.Address, (nuint)_backing.Size, Interop.MADV_REMOVE) < 0)
            throw new ErrnoException(Interop.LastErrno, "madvise(MADV_REMOVE)");
        TouchAll();
    }

    [Benchmark(Description = "fallocate(PUNCH_HOLE) per memfd + touch")]
    public void PunchEachMemfd()
    {
        _backing.Punch();
        TouchAll();
    }

    private unsafe void TouchAll()
    {
        byte* b = (byte*)_backing.Address;
        for (long off = 0; off < _backing.Size; off += SystemPage.Size) b[off] = 1;
    }
}
