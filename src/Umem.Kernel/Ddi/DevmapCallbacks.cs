namespace Umem.Kernel.Ddi;

/// <summary>
/// devmap_callback_ctl(9S): the driver's callbacks for one devmap handle, given to devmap_umem_setup(9F).
/// devmap_dup(9E) runs when a forked child proves it inherited a mapping (INHERIT, docs/protocol.md).
/// </summary>
public sealed class DevmapCallbacks
{
    /// <summary>devmap_map(9E), or null.</summary>
    public DevmapMapCallback? Map { get; init; }

    /// <summary>devmap_access(9E), or null (Umem refuses a handle with one; see <see cref="DevmapAccessCallback"/>).</summary>
    public DevmapAccessCallback? Access { get; init; }

    /// <summary>devmap_unmap(9E), or null.</summary>
    public DevmapUnmapCallback? Unmap { get; init; }

    /// <summary>devmap_dup(9E), or null (the copy then keeps the original's private data, as illumos's bcopy of the handle does).</summary>
    public DevmapDupCallback? Dup { get; init; }
}
