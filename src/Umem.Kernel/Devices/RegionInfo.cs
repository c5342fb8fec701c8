using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>One devmap handle of a mapping.</summary>
/// <param name="MappingOffset">Where it starts inside the mapping.</param>
/// <param name="Length">Its length.</param>
/// <param name="DeviceOffset">Its device offset (dh_uoff).</param>
/// <param name="CookieId">The umem cookie it exports.</param>
/// <param name="KernelOffset">Where in the cookie (dh_roff).</param>
/// <param name="MaxProt">Its effective maxprot (PROT_READ/WRITE/EXEC).</param>
/// <param name="GrantUnitFds">The memfds (grant units of the cookie) the region spans: what its client received for it.</param>
public sealed record RegionInfo(long MappingOffset, long Length, long DeviceOffset, long CookieId, long KernelOffset, Prot MaxProt,
    int GrantUnitFds);
