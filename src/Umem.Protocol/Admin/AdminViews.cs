namespace Umem.Protocol.Admin;

// The views an admin reply carries (docs/protocol.md, "The admin socket"). Plain records of numbers and strings:
// the host fills them from the kernel's snapshots, the CLI prints them as tables or passes them on as JSON.

/// <summary>A loaded module (modinfo).</summary>
public sealed record ModuleView(int Id, string Name, string? Path, uint Major, string State, DateTimeOffset LoadedAt,
    IReadOnlyList<int> Instances, IReadOnlyList<NodeView> Nodes, int Opens, int Mappings, int Cookies, long Bytes, long Allocations);

/// <summary>A minor node of a module.</summary>
public sealed record NodeView(string Name, int Instance, string Dev, string Mode, uint Uid, uint Gid, int Opens, int Mappings);

/// <summary>A past modunload and what the driver left behind.</summary>
public sealed record UnloadView(string Module, DateTimeOffset UnloadedAt, IReadOnlyList<LeakView> Leaks);

/// <summary>A cookie a module never freed (reclaimed at its unload).</summary>
public sealed record LeakView(long Cookie, long Bytes, string Type, string Site, bool StillExported);

/// <summary>One mapping the host granted a process (pmap PID).</summary>
public sealed record MappingView(long Id, int Pid, uint Uid, string Module, string Node, long Offset, long Length, string Prot,
    string Flags, string Model, DateTimeOffset MappedAt, IReadOnlyList<RegionView> Regions);

/// <summary>One region (devmap handle) of a mapping.</summary>
public sealed record RegionView(long MappingOffset, long Length, long DeviceOffset, long Cookie, long CookieOffset, string MaxProt, int GrantUnitFds);

/// <summary>What one process holds through the host (pmap without a pid).</summary>
public sealed record ProcessView(int Pid, uint Uid, string Model, int Project, int Zone, int Connections, int Opens, int Mappings,
    long MappedBytes, int Buffers, long RegisteredBytes);

/// <summary>A project or zone with its controls (prctl).</summary>
public sealed record EntityView(string Kind, int Id, string Name, IReadOnlyList<ControlView> Controls);

/// <summary>One control: usage and values.</summary>
public sealed record ControlView(string Name, bool Bytes, ulong Usage, IReadOnlyList<ValueView> Values);

/// <summary>One value of a control.</summary>
public sealed record ValueView(string Privilege, ulong Value, string? Signal);

/// <summary>Locked bytes charged to one project or zone (stat).</summary>
public sealed record UsageView(string Kind, int Id, string Name, ulong Locked, ulong? Limit);

/// <summary>The host's figures at one moment (stat).</summary>
public sealed record StatView
{
    /// <summary>When the figures were taken.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Live cookies of pageable memory.</summary>
    public long PageableCookies { get; init; }

    /// <summary>Bytes of live pageable memory.</summary>
    public long PageableBytes { get; init; }

    /// <summary>Live cookies of locked (non-pageable) memory.</summary>
    public long LockedCookies { get; init; }

    /// <summary>Bytes of live locked memory.</summary>
    public long LockedBytes { get; init; }

    /// <summary>The budget of driver memory (MaxBytes).</summary>
    public long BudgetBytes { get; init; }

    /// <summary>The budget of locked driver memory (MaxLockedBytes).</summary>
    public long BudgetLockedBytes { get; init; }

    /// <summary>Callers waiting in a DDI_UMEM_SLEEP allocation.</summary>
    public int Waiters { get; init; }

    /// <summary>Live mappings.</summary>
    public int Mappings { get; init; }

    /// <summary>Open files.</summary>
    public int Opens { get; init; }

    /// <summary>Device connections being served.</summary>
    public int Connections { get; init; }

    /// <summary>Device connections ended since the start.</summary>
    public long ConnectionsClosed { get; init; }

    /// <summary>Locked bytes charged (ddi_umem_lock) per project and zone that has a charge or a limit.</summary>
    public IReadOnlyList<UsageView> LockedByEntity { get; init; } = [];

    /// <summary>Requests refused by a limit since the start, by limit.</summary>
    public IReadOnlyDictionary<string, long> Denials { get; init; } = new Dictionary<string, long>();

    /// <summary>Requests served since the start, by type and result ("mmap ok", "open EACCES").</summary>
    public IReadOnlyDictionary<string, long> Requests { get; init; } = new Dictionary<string, long>();
}

/// <summary>A reply: an errno name and message on failure, else the view the operation returns.</summary>
public sealed record AdminReply
{
    /// <summary>The errno's name (EPERM, ENOENT, ...) when the request failed.</summary>
    public string? Error { get; init; }

    /// <summary>What went wrong, for a person.</summary>
    public string? Message { get; init; }

    /// <summary>modinfo, modload: the modules.</summary>
    public IReadOnlyList<ModuleView>? Modules { get; init; }

    /// <summary>modinfo, modunload: unload reports.</summary>
    public IReadOnlyList<UnloadView>? Unloads { get; init; }

    /// <summary>pmap PID: the process's mappings.</summary>
    public IReadOnlyList<MappingView>? Mappings { get; init; }

    /// <summary>pmap: one summary per process.</summary>
    public IReadOnlyList<ProcessView>? Processes { get; init; }

    /// <summary>rctl-get, rctl-set: the entities.</summary>
    public IReadOnlyList<EntityView>? Entities { get; init; }

    /// <summary>stat: the figures.</summary>
    public StatView? Stat { get; init; }
}
