namespace Umem.Kernel.Ddi;

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
