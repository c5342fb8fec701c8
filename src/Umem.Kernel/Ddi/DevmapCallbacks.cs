using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// devmap_map(9E): a handle of a new mapping has been set up. Set <paramref name="pvtp"/> to the driver's private
/// data for this handle; it comes back in the other callbacks. A nonzero return fails the mmap with ENXIO after
/// the handles already mapped get their devmap_unmap.
/// </summary>
/// <param name="dhp">The handle.</param>
/// <param name="dev">The device.</param>
/// <param name="flags">The mmap flags (MAP_SHARED or MAP_PRIVATE).</param>
/// <param name="off">The device offset of the handle.</param>
/// <param name="len">The handle's length.</param>
/// <param name="pvtp">The private data to keep with the handle.</param>
public delegate Errno DevmapMapCallback(DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp);

/// <summary>
/// devmap_unmap(9E): <c>[off, off+len)</c> (device offsets) of the handle is being unmapped. The framework's cases
/// (seg_dev.c segdev_unmap) are:
/// <list type="bullet">
/// <item>the whole handle: <c>newDhp1</c> and <c>newDhp2</c> are null; the handle is freed afterwards;</item>
/// <item>the head: <c>newDhp2</c> is the same handle (it will start at <c>off+len</c>), <c>newPvtp2</c> its private data;</item>
/// <item>the tail: <c>newDhp1</c> is the same handle (it will end at <c>off</c>), <c>newPvtp1</c> its private data;</item>
/// <item>a hole: <c>newDhp1</c> is the same handle (the part before the hole) and <c>newDhp2</c> a new handle (the
/// part after it), whose private data starts as a copy of the old.</item>
/// </list>
/// The handles still describe the old range during the call. Assigning <c>newPvtp1</c>/<c>newPvtp2</c> sets the
/// private data of the matching handle; when that handle is null the assignment is ignored.
/// </summary>
public delegate void DevmapUnmapCallback(DevmapHandle dhp, object? pvtp, long off, long len,
    DevmapHandle? newDhp1, ref object? newPvtp1, DevmapHandle? newDhp2, ref object? newPvtp2);

/// <summary>
/// devmap_access(9E): called on a fault in illumos. Umem defers it: faults happen in the application's own
/// address space, where the host cannot see them, so a handle with an access callback is refused (ENOTSUP).
/// </summary>
public delegate Errno DevmapAccessCallback(DevmapHandle dhp, object? pvtp, long off, long len, FaultType type, SegRw rw);

/// <summary>
/// devmap_callback_ctl(9S): the driver's callbacks for one devmap handle, given to devmap_umem_setup(9F).
/// devmap_dup(9E) is left out: an application's fork shares the memfd mappings with the child without the host
/// knowing (see docs/design.md).
/// </summary>
public sealed class DevmapCallbacks
{
    /// <summary>devmap_map(9E), or null.</summary>
    public DevmapMapCallback? Map { get; init; }

    /// <summary>devmap_access(9E), or null (Umem refuses a handle with one; see <see cref="DevmapAccessCallback"/>).</summary>
    public DevmapAccessCallback? Access { get; init; }

    /// <summary>devmap_unmap(9E), or null.</summary>
    public DevmapUnmapCallback? Unmap { get; init; }
}

/// <summary>enum fault_type (vm/seg_enum.h): the kind of fault devmap_access(9E) is asked about.</summary>
public enum FaultType
{
    /// <summary>F_INVAL: no translation.</summary>
    Invalid = 0,

    /// <summary>F_PROT: a protection fault.</summary>
    Protection = 1,

    /// <summary>F_SOFTLOCK: lock the translation.</summary>
    SoftLock = 2,

    /// <summary>F_SOFTUNLOCK: release a softlock.</summary>
    SoftUnlock = 3,
}

/// <summary>enum seg_rw (vm/seg_enum.h): the access that faulted.</summary>
public enum SegRw
{
    /// <summary>S_OTHER.</summary>
    Other = 0,

    /// <summary>S_READ.</summary>
    Read = 1,

    /// <summary>S_WRITE.</summary>
    Write = 2,

    /// <summary>S_EXEC.</summary>
    Exec = 3,

    /// <summary>S_CREATE.</summary>
    Create = 4,
}
