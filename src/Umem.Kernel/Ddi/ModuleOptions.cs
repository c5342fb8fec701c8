namespace Umem.Kernel.Ddi;

/// <summary>How the host loads one module (the per-module configuration; driver.conf(5) in illumos).</summary>
public sealed record ModuleOptions
{
    /// <summary>Instances to attach (0 … n-1); null takes the driver's <see cref="UmemDriverAttribute.Instances"/>, else 1.</summary>
    public int? Instances { get; init; }

    /// <summary>Properties the driver reads with ddi_prop_get_int / ddi_prop_lookup_string.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>Record the whole stack at every ddi_umem_alloc (for leak reports); off by default, the caller's name and line are always kept.</summary>
    public bool CaptureAllocationStacks { get; init; }

    /// <summary>The most instances a module may ask for.</summary>
    public const int MaxInstances = 1024;
}

/// <summary>The lifetime of a module.</summary>
public enum ModuleState
{
    /// <summary>The assembly is loaded and the driver constructed (_init); instances are attaching.</summary>
    Loaded,

    /// <summary>Every instance is attached; its nodes are published and can be opened.</summary>
    Attached,

    /// <summary>modunload is detaching the instances; no new opens.</summary>
    Detaching,

    /// <summary>Gone: instances detached, leaks reclaimed, load context unloaded.</summary>
    Unloaded,
}

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

/// <summary>What a modunload found: the cookies the driver never freed (each reclaimed).</summary>
/// <param name="Module">The module unloaded.</param>
/// <param name="Leaks">One record per cookie left allocated.</param>
public sealed record ModuleUnloadReport(string Module, IReadOnlyList<LeakRecord> Leaks);

/// <summary>A minor node was published or removed.</summary>
public sealed class MinorNodeEventArgs(MinorNode node) : EventArgs
{
    /// <summary>The node.</summary>
    public MinorNode Node { get; } = node;
}

/// <summary>A driver or the framework said something about a module.</summary>
public sealed class DdiMessageEventArgs(DdiMessage message) : EventArgs
{
    /// <summary>The message.</summary>
    public DdiMessage Message { get; } = message;
}

/// <summary>A module was unloaded.</summary>
public sealed class ModuleUnloadedEventArgs(ModuleUnloadReport report) : EventArgs
{
    /// <summary>What the unload found.</summary>
    public ModuleUnloadReport Report { get; } = report;
}
