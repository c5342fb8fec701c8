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
    public void Umem()
    {
        UmemCookie cookie = _allocator.Alloc(_size, _flags);
        Touch(cookie.KernelAddress, _size);
        _allocator.Free(cookie);
    }

    /// <summary>The cache-miss path: new sealed memfds (one per page), mapped, locked, and unmapped again each time.</summary>
    [Benchmark(Description = "Umem alloc+touch+free, cache off")]
    public void UmemUncached()
    {
        UmemCookie cookie = _uncached.Alloc(_size, _flags);
        Touch(cookie.KernelAddress, _size);
        _uncached.Free(cookie);
    }

    [Benchmark(Baseline = true, Description = "raw memfd+ftruncate+mmap[+mlock]+touch+munmap+close")]
    public void RawMemfd()
    {
        using SafeFd fd = Interop.memfd_create("umem-bench-raw", Interop.MFD_CLOEXEC);
        if (Interop.ftruncate(fd, _size) < 0) throw new ErrnoException(Interop.LastErrno, "ftruncate");
        nint p = Interop.mmap(0, (nuint)_size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        if (p == Interop.MAP_FAILED) throw new ErrnoException(Interop.LastErrno, "mmap");
        if (Kind == MemoryKind.Locked && Interop.mlock(p, (nuint)_size) < 0) throw new ErrnoException(Interop.LastErrno, "mlock");
        Touch(p, _size);
        if (Interop.munmap(p, (nuint)_size) < 0) throw new ErrnoException(Interop.LastErrno, "munmap");
    }

    [Benchmark(Description = "NativeMemory.AlignedAlloc+clear+free")]
    public unsafe void NativeAligned()
    {
        void* p = NativeMemory.AlignedAlloc((nuint)_size, (nuint)SystemPage.Size);
        NativeMemory.Clear(p, (nuint)_size);
        NativeMemory.AlignedFree(p);
    }

    /// <summary>Writes one byte in every page, as a driver that uses its memory would.</summary>
    private static unsafe void Touch(nint address, long size)
    {
        byte* b = (byte*)address;
        for (long off = 0; off < size; off += SystemPage.Size) b[off] = 1;
    }
}

/// <summary>The kind of memory asked for.</summary>
public enum MemoryKind
{
    Locked,
    Pageable,
}
