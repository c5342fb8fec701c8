namespace Umem.Kernel.Ddi;

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
