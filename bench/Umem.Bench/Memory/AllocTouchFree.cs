using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Memory;

/// <summary>What the allocator benchmarks measure, and the raw path they measure it against through the same interop.</summary>
internal static class AllocTouchFree
{
    /// <summary>ddi_umem_alloc + touch every page + ddi_umem_free.</summary>
    internal static void Umem(UmemAllocator allocator, long size, UmemFlags flags)
    {
        UmemCookie cookie = allocator.Alloc(size, flags);
        Touch(cookie.KernelAddress, size);
        allocator.Free(cookie);
    }

    /// <summary>
    /// The raw memfd path: memfd_create + ftruncate + mmap(MAP_SHARED) + [mlock +] touch every page + munmap + close.
    /// One fd and one mapping, whatever the size.
    /// </summary>
    internal static void Raw(long size, bool locked)
    {
        using SafeFd fd = Interop.memfd_create("umem-bench-raw", Interop.MFD_CLOEXEC);
        if (Interop.ftruncate(fd, size) < 0) throw new ErrnoException(Interop.LastErrno, "ftruncate");
        nint p = Interop.mmap(0, (nuint)size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        if (p == Interop.MAP_FAILED) throw new ErrnoException(Interop.LastErrno, "mmap");
        if (locked && Interop.mlock(p, (nuint)size) < 0) throw new ErrnoException(Interop.LastErrno, "mlock");
        Touch(p, size);
        if (Interop.munmap(p, (nuint)size) < 0) throw new ErrnoException(Interop.LastErrno, "munmap");
    }

    /// <summary>Writes one byte in every page, as a driver that uses its memory would.</summary>
    internal static unsafe void Touch(nint address, long size)
    {
        byte* b = (byte*)address;
        for (long off = 0; off < size; off += SystemPage.Size) b[off] = 1;
    }
}
