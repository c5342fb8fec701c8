using System.Runtime.InteropServices;

namespace Umem.Platform;

/// <summary>A range of this process's address space obtained with mmap; disposing unmaps it exactly once.</summary>
public sealed class MappedRegion : SafeHandle
{
    private MappedRegion(nint address, nuint length) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public override bool IsInvalid => handle == IntPtr.Zero || handle == -1;

    /// <summary>The first byte of the mapping.</summary>
    public nint Address => handle;

    /// <summary>The mapping's length in bytes.</summary>
    public nuint Length { get; }

    protected override bool ReleaseHandle() => Interop.munmap(handle, Length) == 0;

    /// <summary>mmap(NULL, length, prot, MAP_SHARED|extraFlags, fd, offset).</summary>
    internal static MappedRegion MapShared(SafeFd fd, long offset, long length, int prot, int extraFlags = 0)
    {
        nint p = Interop.mmap(0, (nuint)length, prot, Interop.MAP_SHARED | extraFlags, fd, offset);
        return p == Interop.MAP_FAILED
            ? throw new ErrnoException(Interop.LastErrno,
                $"mmap(len={length}, prot={Interop.FormatProt(prot)}, MAP_SHARED, {fd}, off={offset})")
            : new MappedRegion(p, (nuint)length);
    }

    /// <summary>mmap(NULL, length, PROT_READ[|PROT_WRITE], MAP_SHARED[|MAP_POPULATE], fd, offset).</summary>
    internal static MappedRegion MapShared(SafeFd fd, long offset, long length, bool writable, bool populate = false) =>
        MapShared(fd, offset, length, writable ? Interop.PROT_READ | Interop.PROT_WRITE : Interop.PROT_READ,
            populate ? Interop.MAP_POPULATE : 0);

    /// <summary>Reserves address space that nothing can touch (PROT_NONE); memfds are then mapped over it.</summary>
    internal static MappedRegion Reserve(long length)
    {
        nint p = Interop.mmap_anonymous(0, (nuint)length, Interop.PROT_NONE,
            Interop.MAP_PRIVATE | Interop.MAP_ANONYMOUS | Interop.MAP_NORESERVE, -1, 0);
        return p == Interop.MAP_FAILED
            ? throw new ErrnoException(Interop.LastErrno, $"mmap(len={length}, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS)")
            : new MappedRegion(p, (nuint)length);
    }
}
