namespace Umem.Bench.Scale;

/// <summary>Everything a scale run measured; written as scale.json and printed as Markdown.</summary>
internal sealed class ScaleResults
{
    public required ScaleSetup Setup { get; init; }

    /// <summary>Map latency against live mappings host-wide, with all connections open.</summary>
    public List<CurvePoint> Curve { get; } = [];

    /// <summary>The same levels measured again on the way back down (after the top), newest mappings unmapped first.</summary>
    public List<CurvePoint> CurveDown { get; } = [];

    /// <summary>Map latency with few and with all connections open, at the same number of mappings.</summary>
    public List<CurvePoint> ConnectionComparison { get; } = [];

    /// <summary>Map latency against mappings the probe's own connection holds (the workers gone).</summary>
    public List<CurvePoint> ProbeOwnCurve { get; } = [];

    public MemoryFigures Memory { get; } = new();

    public FdFigures Fds { get; } = new();

    public GcFigures Gc { get; } = new();

    /// <summary>The host's GC configuration as it reported it at start (`umem host: GC ...`), and the environment the run gave it.</summary>
    public string HostGc { get; set; } = "";

    /// <summary>Seconds each phase took (wall clock).</summary>
    public Dictionary<string, double> PhaseSeconds { get; } = [];

    public double TotalSeconds { get; set; }

    /// <summary>/proc/loadavg at the start and at the end: other work on the machine shows in the tails.</summary>
    public string LoadAtStart { get; set; } = "";

    public string LoadAtEnd { get; set; } = "";

    public int HostExitCode { get; set; }

    /// <summary>"leak:" lines the host wrote at shutdown (modunload's report of cookies the driver never freed).</summary>
    public List<string> HostLeaks { get; } = [];

    /// <summary>What went wrong; empty for a good run.</summary>
    public List<string> Failures { get; } = [];
}

/// <summary>The run's size and the machine.</summary>
internal sealed record ScaleSetup(bool Quick, int Connections, int Mappings, int Cookies, int Workers, int Samples,
    int FewConnections, int ComparisonMappings, int ProcessorCount, int PageSize, string Runtime, string Clients, DateTimeOffset Started);

/// <summary>
/// One point of a curve: what was live, the two latency series and the floor measured right after them (a bare
/// round trip with an fd, mapped and unmapped: FloorProbe), the host's runtime suspensions while they were
/// sampled, the host's heap and resident anonymous memory after a full GC that followed, and how long the
/// processes took to go quiet before the samples.
/// </summary>
internal sealed record CurvePoint(int Mappings, int Connections, LatencySeries Map, LatencySeries MapUnmap, LatencySeries Floor,
    DateTime SamplesFrom, DateTime SamplesTo, long HostHeap, long HostRssAnon, int HostThreads, double QuietWaitSeconds)
{
    /// <summary>Host runtime suspensions that began while the samples ran (filled in once the GC events are all in).</summary>
    public int PausesDuringSamples { get; init; }

    public double LongestPauseMs { get; init; }

    /// <summary>When the level began: the start of the map or unmap burst that reached it (the samples' start for none).</summary>
    public DateTime LevelFrom { get; init; }

    /// <summary>
    /// The longest suspension of the host from <see cref="LevelFrom"/> to the samples' end that was not one of the
    /// full GCs this benchmark induces for its snapshots: what the host's own GC cost at this level, bursts included.
    /// </summary>
    public double LongestOwnPauseMs { get; init; }

    /// <summary>The GC that suspension belonged to (number, generation, reason, type).</summary>
    public string LongestOwnPauseGc { get; init; } = "";
}

/// <summary>The host at one moment, right after a full blocking GC: its managed heap and what the kernel says.</summary>
internal sealed record HostSnapshot(GcHeap Heap, ProcMemory Os);

/// <summary>The host's memory at each stage, and the per-connection and per-mapping costs derived from it.</summary>
internal sealed class MemoryFigures
{
    /// <summary>Cookies allocated, the probe connected and warmed up, no worker connection.</summary>
    public HostSnapshot? HostBase { get; set; }

    /// <summary>With every worker connection open and idle, no mapping.</summary>
    public HostSnapshot? HostIdleConnections { get; set; }

    /// <summary>With every mapping live.</summary>
    public HostSnapshot? HostAllMappings { get; set; }

    /// <summary>After every worker left (and the probe's own curve).</summary>
    public HostSnapshot? HostAfterWorkers { get; set; }

    /// <summary>Bytes of live objects per idle connection (heap walks: every object the host keeps, touched or not).</summary>
    public double HostObjectsPerIdleConnection { get; set; }

    /// <summary>Bytes of live objects per mapping (heap walks).</summary>
    public double HostObjectsPerMapping { get; set; }

    /// <summary>Live objects per idle connection (heap walks): what a GC marks for each.</summary>
    public double HostObjectCountPerIdleConnection { get; set; }

    /// <summary>Live objects per mapping (heap walks).</summary>
    public double HostObjectCountPerMapping { get; set; }

    /// <summary>Managed heap bytes per idle connection (after full GCs; the generations' sizes, free space in them included).</summary>
    public double HostHeapPerIdleConnection { get; set; }

    /// <summary>Resident anonymous bytes per idle connection (pages the host touched).</summary>
    public double HostRssAnonPerIdleConnection { get; set; }

    /// <summary>Private writable anonymous (virtual, committed) bytes per idle connection.</summary>
    public double HostAnonWritablePerIdleConnection { get; set; }

    public double HostHeapPerMapping { get; set; }

    public double HostRssAnonPerMapping { get; set; }

    public double HostAnonWritablePerMapping { get; set; }

    /// <summary>What each idle connection keeps alive in the host, by type (heap walks before and after), largest first.</summary>
    public List<TypeGrowth> PerIdleConnectionByType { get; } = [];

    /// <summary>What each mapping keeps alive in the host, by type, largest first.</summary>
    public List<TypeGrowth> PerMappingByType { get; } = [];

    /// <summary>The workers together before they opened their connections (warmed up).</summary>
    public WorkerStats? ClientsBase { get; set; }

    /// <summary>Client process RssAnon per idle connection (no GC forced in the workers: an upper bound).</summary>
    public double ClientRssAnonPerIdleConnection { get; set; }

    /// <summary>The workers together before their first mapping and with all of them.</summary>
    public WorkerStats? ClientsIdle { get; set; }

    public WorkerStats? ClientsAllMappings { get; set; }

    /// <summary>Client process RssAnon per mapping (the library's objects; the page itself is the driver's shared memory).</summary>
    public double ClientRssAnonPerMapping { get; set; }

    /// <summary>Client page-table bytes per mapping (kernel memory the mapping costs the application).</summary>
    public double ClientPageTablesPerMapping { get; set; }

    /// <summary>VMAs per mapping in the client (vm.max_map_count counts these).</summary>
    public double ClientVmasPerMapping { get; set; }
}

/// <summary>Open fds of the host at each stage (entries of /proc/PID/fd).</summary>
internal sealed class FdFigures
{
    /// <summary>Host started, driver loaded, nothing connected.</summary>
    public int HostStarted { get; set; }

    /// <summary>The probe connected and the cookies allocated (one memfd each).</summary>
    public int Baseline { get; set; }

    public int IdleConnections { get; set; }

    public int AllMappings { get; set; }

    /// <summary>Every client unmapped and closed cleanly: must equal <see cref="Baseline"/>.</summary>
    public int AfterAllClosed { get; set; }

    public int FewConnectionsLive { get; set; }

    /// <summary>Every worker gone (even ones closed cleanly, odd ones killed with the few connections' mappings live): must equal <see cref="Baseline"/>.</summary>
    public int AfterWorkers { get; set; }

    /// <summary>The probe closed too: must be <see cref="Baseline"/> − 1.</summary>
    public int AfterProbe { get; set; }

    /// <summary>Host fds per idle connection ((IdleConnections − Baseline) / connections).</summary>
    public double PerIdleConnection { get; set; }

    /// <summary>Host fds per mapping ((AllMappings − IdleConnections) / mappings).</summary>
    public double PerMapping { get; set; }
}

/// <summary>The host's GCs over the whole run (the induced ones the snapshots asked for included).</summary>
internal sealed class GcFigures
{
    /// <summary>GCs by generation (0, 1, 2), all reasons.</summary>
    public int[] ByGeneration { get; set; } = [0, 0, 0];

    public int Induced { get; set; }

    /// <summary>Runtime suspensions (GC pauses and others) and their lengths.</summary>
    public int Pauses { get; set; }

    public double LongestPauseMs { get; set; }

    public double TotalPauseMs { get; set; }

    /// <summary>The ten longest suspensions, with the GC each belonged to.</summary>
    public List<string> LongestPauses { get; } = [];

    /// <summary>Gen2 GCs the host ran by itself (not induced), blocking (NonConcurrentGC) and background.</summary>
    public int OwnBlockingGen2 { get; set; }

    public int OwnBackgroundGen2 { get; set; }

    /// <summary>Suspensions that were not the benchmark's induced full GCs: the host's own GCs (and other suspensions).</summary>
    public int OwnPauses { get; set; }

    public double LongestOwnPauseMs { get; set; }

    public double TotalOwnPauseMs { get; set; }

    /// <summary>The longest induced full blocking GC (a snapshot's or a heap census's): what a full mark of the heap costs.</summary>
    public double LongestInducedPauseMs { get; set; }

    /// <summary>
    /// The longest of the host's own blocking GCs from its start to its end (GCStart to GCEnd, background GCs left out):
    /// the GC's own work, without the wait for the threads to stop that a pause also holds.
    /// </summary>
    public double LongestOwnBlockingGcMs { get; set; }

    public string LongestOwnBlockingGc { get; set; } = "";

    /// <summary>The ten longest of the host's own suspensions, with their GCs.</summary>
    public List<string> LongestOwnPauses { get; } = [];
}
