using System.Runtime.InteropServices;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// The hot words of one control: usage, the cached threshold and the peak, alone on their cache line. The
/// 64-byte pads before and after keep a neighbouring object's writes (another project's counter, say) off this
/// line, so charging two projects from two CPUs never shares a line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct RctlCounters
{
    /// <summary>Bytes charged now (kpd_locked_mem / zone_locked_mem).</summary>
    [FieldOffset(64)]
    public ulong Usage;

    /// <summary>The lowest deny threshold, cached as kpd_locked_mem_ctl is; UINT64_MAX when unlimited.</summary>
    [FieldOffset(72)]
    public ulong Limit;

    /// <summary>The highest usage ever reached, for tests and diagnostics.</summary>
    [FieldOffset(80)]
    public ulong Peak;
}
