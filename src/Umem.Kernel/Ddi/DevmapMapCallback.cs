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
