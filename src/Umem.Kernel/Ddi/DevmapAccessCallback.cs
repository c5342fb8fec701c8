using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// devmap_access(9E): called on a fault in illumos. Umem defers it: faults happen in the application's own
/// address space, where the host cannot see them, so a handle with an access callback is refused (ENOTSUP).
/// </summary>
public delegate Errno DevmapAccessCallback(DevmapHandle dhp, object? pvtp, long off, long len, FaultType type, SegRw rw);
