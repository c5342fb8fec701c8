using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;

namespace Umem.Drivers.Xx;

/// <summary>
/// The driver's soft state, one per instance (<c>struct xxstate</c>).
/// </summary>
/// <remarks>
/// The C keeps both <c>xsp-&gt;umem</c> (the kernel address ddi_umem_alloc returns) and <c>xsp-&gt;ucookie</c>;
/// here the cookie carries the address (<see cref="UmemCookie.KernelAddress"/>, <see cref="UmemCookie.Span"/>).
/// </remarks>
public sealed class XxState
{
    /// <summary>xsp->dip: the instance's dev_info.</summary>
    public DevInfo? Dip { get; set; }

    /// <summary>xsp->ucookie: the shared area, allocated on the first mmap; null until then.</summary>
    public UmemCookie? UCookie { get; set; }

    /// <summary>Serialises the lazy allocation in segmap (the C races two first mappers; see XxDriver.Segmap).</summary>
    public Lock Gate { get; } = new();
}
