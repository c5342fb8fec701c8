namespace Umem.Kernel.Modules;

/// <summary>A module as modinfo lists it.</summary>
/// <param name="Id">The module id.</param>
/// <param name="Name">The driver's name.</param>
/// <param name="Path">The assembly it was loaded from (null for a module built into the host).</param>
/// <param name="Major">Its major number.</param>
/// <param name="State">Its state.</param>
/// <param name="LoadedAt">When it was loaded.</param>
/// <param name="Instances">Its attached instance numbers.</param>
/// <param name="Nodes">Its minor nodes.</param>
/// <param name="OpenFiles">Files open on its nodes.</param>
/// <param name="Mappings">Live mappings of its nodes.</param>
/// <param name="LiveCookies">umem cookies it holds.</param>
/// <param name="LiveBytes">Bytes of those cookies.</param>
/// <param name="TotalAllocations">ddi_umem_alloc calls since load.</param>
public sealed record ModuleInfo(int Id, string Name, string? Path, uint Major, ModuleState State, DateTimeOffset LoadedAt,
    IReadOnlyList<int> Instances, IReadOnlyList<NodeInfo> Nodes, int OpenFiles, int Mappings, int LiveCookies, long LiveBytes,
    long TotalAllocations);
