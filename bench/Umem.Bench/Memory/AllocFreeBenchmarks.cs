using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Memory;

/// <summary>
/// ddi_umem_alloc + touch every page + ddi_umem_free, beside two baselines measured in the same run: the raw
/// memfd path through the same interop (memfd_create, ftruncate, mmap, [mlock,] touch, munmap, close) and
/// NativeMemory.AlignedAlloc + clear + free. The raw memfd path is the ratio's baseline.
/// </summary>
[MemoryDiagnoser]
public class AllocFreeBenchmarks
{
    private UmemAllocator _allocator = null!;
    private UmemAllocator _uncached = null!;
    private long _size;
    private UmemFlags _flags;

    /// <summary>Pages per allocation.</summary>
    [Params(1, 16, 256)]
    public int Pages { get; set; }

    /// <summary>Locked (ddi_umem_alloc without DDI_UMEM_PAGEABLE) or pageable.</summary>
    [Params(MemoryKind.Locked, MemoryKind.Pageable)]
    public MemoryKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _size = Pages * (long)SystemPage.Size;
        _flags = Kind == MemoryKind.Locked ? UmemFlags.Sleep : UmemFlags.Pageable;
        _allocator = new UmemAllocator(new UmemAllocatorOptions { Name = "umem-bench" });
        _uncached = new UmemAllocator(new UmemAllocatorOptions { Name = "umem-bench-uncached", CacheBytes = 0 });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _allocator.Dispose();
        _uncached.Dispose();
    }

    [Benchmark(Description = "Umem alloc+touch+free")]
    public void Umem() => AllocTouchFree.Umem(_allocator, _size, _flags);

    /// <summary>The cache-miss path: new sealed memfds (one per grant unit), mapped, locked, and unmapped again each time.</summary>
    [Benchmark(Description = "Umem alloc+touch+free, cache off")]
    public void UmemUncached() => AllocTouchFree.Umem(_uncached, _size, _flags);

    [Benchmark(Baseline = true, Description = "raw memfd+ftruncate+mmap[+mlock]+touch+munmap+close")]
    public void RawMemfd() => AllocTouchFree.Raw(_size, Kind == MemoryKind.Locked);

    [Benchmark(Description = "NativeMemory.AlignedAlloc+clear+free")]
    public unsafe void NativeAligned()
    {
        void* p = NativeMemory.AlignedAlloc((nuint)_size, (nuint)SystemPage.Size);
        NativeMemory.Clear(p, (nuint)_size);
        NativeMemory.AlignedFree(p);
    }
}

/// <summary>The kind of memory asked for.</summary>
public enum MemoryKind
{
    Locked,
    Pageable,
}
