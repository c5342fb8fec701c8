using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// devmap_dup(9E): a process that inherited a mapping of the device (a forked child, docs/protocol.md, INHERIT)
/// now holds its own copy of handle <paramref name="dhp"/>. Set <paramref name="newPvtp"/> to the private data of
/// the copy <paramref name="newDhp"/> (it comes back in its devmap_unmap(9E)). A nonzero return fails the
/// inheritance with that errno; the copies already made get their devmap_unmap.
/// </summary>
/// <param name="dhp">The original handle (the parent's).</param>
/// <param name="pvtp">The original's private data.</param>
/// <param name="newDhp">The child's copy.</param>
/// <param name="newPvtp">The private data to keep with the copy.</param>
public delegate Errno DevmapDupCallback(DevmapHandle dhp, object? pvtp, DevmapHandle newDhp, out object? newPvtp);
