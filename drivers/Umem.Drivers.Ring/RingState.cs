using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;

namespace Umem.Drivers.Ring;

/// <summary>The driver's soft state, one per instance.</summary>
public sealed class RingState
{
    /// <summary>The instance's dev_info.</summary>
    public DevInfo? Dip { get; set; }

    /// <summary>The ring area (ddi_umem_alloc at attach, ddi_umem_free at detach).</summary>
    public UmemCookie? Cookie { get; set; }
}
