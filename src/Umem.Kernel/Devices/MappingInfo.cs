using Umem.Kernel.Ddi;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>A mapping as pmap-style listings show it.</summary>
/// <param name="Id">The mapping's id.</param>
/// <param name="Module">The driver.</param>
/// <param name="Node">The minor node.</param>
/// <param name="Dev">The device number of the open file.</param>
/// <param name="Cred">Who mapped it (pid, uid, gid, project, zone, data model).</param>
/// <param name="Offset">The device offset.</param>
/// <param name="Length">The mapping's length.</param>
/// <param name="Prot">The protection requested.</param>
/// <param name="Flags">MAP_SHARED or MAP_PRIVATE.</param>
/// <param name="State">Its state.</param>
/// <param name="MappedAt">When it was mapped.</param>
/// <param name="Regions">The live regions (devmap handles), in order.</param>
public sealed record MappingInfo(long Id, string Module, string Node, DevT Dev, Cred Cred, long Offset, long Length,
    Prot Prot, MapFlags Flags, MappingState State, DateTimeOffset MappedAt, IReadOnlyList<RegionInfo> Regions);
