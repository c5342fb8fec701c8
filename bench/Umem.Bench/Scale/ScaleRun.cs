using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Umem.Bench.ScaleDriver;
using Umem.Client;

namespace Umem.Bench.Scale;

/// <summary>
/// The scale benchmark (issue 7, path 6) through the real path: `umem host` with the scale driver in one child
/// process, worker processes holding the client connections and mappings (<see cref="ScaleWorker"/>), and a probe
/// connection here that times map requests at each level. See bench/README.md for what each figure means.
/// </summary>
internal sealed class ScaleRun
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_mapGuard = TimeSpan.FromMinutes(5);
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private const int WarmUpRequests = 1000;
    private const int WorkerWarmUpRequests = 1000;
    private const int CensusTypes = 25;
    private const int FloorBlock = 100;

    private readonly ScaleOptions _o;
    private readonly ScaleResults _results;
    private readonly List<WorkerProcess> _workers = [];
    private ScaleHost? _host;
    private HostGcMonitor? _gc;
    private LatencyProbe? _probe;
    private FloorProbe? _floor;

    private ScaleRun(ScaleOptions o, ScaleResults results)
    {
        _o = o;
        _results = results;
    }

    public static int Run(ScaleOptions o, TextWriter output)
    {
        var total = Stopwatch.StartNew();
        int workers = o.WorkerCount;
        var results = new ScaleResults
        {
            Setup = new ScaleSetup(o.Quick, o.Connections, o.Mappings, o.Cookies, workers, o.Samples, o.FewConnections,
                o.ComparisonMappings, Environment.ProcessorCount, Environment.SystemPageSize, RuntimeInformation.FrameworkDescription,
                $"{workers} worker processes (this program in scale-worker mode) holding the {o.Connections} connections between them, "
                + "one UmemDevice (one socket) each; the probe is one more connection, in the coordinator",
                DateTimeOffset.Now),
        };
        results.LoadAtStart = LoadAverage();
        var dir = Directory.CreateTempSubdirectory("umem-scale-");
        var run = new ScaleRun(o, results);
        try
        {
            output.WriteLine($"scale: umem host, {workers} workers ({(o.Quick ? "quick" : "full")} run)");
            run.Execute(Path.Combine(dir.FullName, "dev"), output);
        }
        catch (Exception e)
        {
            results.Failures.Add($"{e.GetType().Name}: {e.Message}");
            if (run._host is not null) results.Failures.Add(run._host.Describe());
        }
        finally
        {
            run.TearDown();
            dir.Delete(recursive: true);
        }
        results.TotalSeconds = total.Elapsed.TotalSeconds;
        results.LoadAtEnd = LoadAverage();

        string json = o.JsonPath ?? ScalePaths.DefaultJson;
        Directory.CreateDirectory(Path.GetDirectoryName(json)!);
        File.WriteAllText(json, JsonSerializer.Serialize(results, s_json));
        ScaleReport.Write(results, output);
        output.WriteLine($"scale: results in {json}");
        return results.Failures.Count == 0 ? 0 : 1;
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private ScaleHost Host => _host!;

    private int HostPid => Host.Pid;

    private LatencyProbe Probe => _probe!;

    private void Execute(string devDir, TextWriter output)
    {
        var o = _o;
        var r = _results;
        Phase("start host and floor", () =>
        {
            _host = ScaleHost.Start(devDir, o.HostEnvironment, s_guard);
            _floor = FloorProbe.Start(Path.Combine(Path.GetDirectoryName(devDir)!, "floor"), s_guard);
        });
        r.Fds.HostStarted = ProcMemory.CountFds(HostPid);
        r.HostGc = string.Join("; ", new[] { Host.GcLine ?? "(the host did not report its GC)" }.Concat(o.HostEnvironment.Select(e => $"env {e}")));
        Phase("attach to the host's GC", () => _gc = HostGcMonitor.Start(HostPid));

        _probe = new LatencyProbe(UmemDevice.Open(Host.NodePath), o.Cookies);
        Phase("allocate cookies", () =>
        {
            Span<byte> count = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(count, o.Cookies);
            int held = Probe.Device.Ioctl(ScaleIoctl.Alloc, count, []).Rval;
            if (held != o.Cookies) throw new InvalidOperationException($"the scale driver holds {held} cookies, not {o.Cookies}");
        });
        Phase("warm up", () => Probe.WarmUp(Math.Max(2000, o.Samples)));
        Phase("start workers", () =>
        {
            for (int w = 0; w < o.WorkerCount; w++) _workers.Add(WorkerProcess.Start(w, o.WorkerCount, o.Cookies, Host.NodePath));
        });
        Phase("warm up workers", () => All(_workers, w => w.WarmAsync(WorkerWarmUpRequests, s_guard)));
        Phase("settle and snapshot: baseline", () => r.Memory.HostBase = Snapshot());
        Dictionary<string, TypeTotal> censusBase = [];
        Phase("heap census: baseline", () => censusBase = HeapCensus.Take(HostPid, s_mapGuard));
        r.Fds.Baseline = ProcMemory.CountFds(HostPid);
        r.Memory.ClientsBase = Sum(All(_workers, w => w.StatsAsync(s_guard)));

        // All connections, idle: the per-connection cost.
        int[] shares = Split(o.Connections, o.WorkerCount);
        Phase($"open {o.Connections} connections", () => All(_workers, w => w.OpenAsync(shares[w.Index], s_guard)));
        r.Fds.IdleConnections = ProcMemory.CountFds(HostPid);
        r.Fds.PerIdleConnection = (r.Fds.IdleConnections - r.Fds.Baseline) / (double)o.Connections;
        Phase("settle and snapshot: idle connections", () => r.Memory.HostIdleConnections = Snapshot());
        Dictionary<string, TypeTotal> censusIdle = [];
        Phase("heap census: idle connections", () => censusIdle = HeapCensus.Take(HostPid, s_mapGuard));
        r.Memory.PerIdleConnectionByType.AddRange(HeapCensus.Growth(censusBase, censusIdle, o.Connections, CensusTypes));
        r.Memory.HostObjectsPerIdleConnection = (HeapCensus.TotalBytes(censusIdle) - HeapCensus.TotalBytes(censusBase)) / (double)o.Connections;
        r.Memory.HostObjectCountPerIdleConnection = (HeapCensus.TotalObjects(censusIdle) - HeapCensus.TotalObjects(censusBase)) / (double)o.Connections;
        r.Memory.ClientsIdle = Sum(All(_workers, w => w.StatsAsync(s_guard)));

        // The curve: mappings added level by level, spread over every connection and cookie.
        foreach (int level in o.Levels)
        {
            int[] perWorker = Split(level, o.WorkerCount);
            var levelFrom = DateTime.Now;
            Phase($"map up to {level}", () => All(_workers, w => w.MapAsync(perWorker[w.Index], s_mapGuard)));
            var point = Measure(level, o.Connections, levelFrom);
            r.Curve.Add(point);
            if (level == o.ComparisonMappings) r.ConnectionComparison.Add(point);
            output.WriteLine($"scale: {level,7} mappings: Map p50 {point.Map.P50:F1} µs, p99 {point.Map.P99:F1} µs, host heap {point.HostHeap / 1048576.0:F1} MiB");
        }
        r.Fds.AllMappings = ProcMemory.CountFds(HostPid);
        r.Fds.PerMapping = (r.Fds.AllMappings - r.Fds.IdleConnections) / (double)o.Mappings;
        Phase("settle and snapshot: all mappings", () => r.Memory.HostAllMappings = Snapshot());
        Dictionary<string, TypeTotal> censusAll = [];
        Phase("heap census: all mappings", () => censusAll = HeapCensus.Take(HostPid, s_mapGuard));
        r.Memory.PerMappingByType.AddRange(HeapCensus.Growth(censusIdle, censusAll, o.Mappings, CensusTypes));
        r.Memory.HostObjectsPerMapping = (HeapCensus.TotalBytes(censusAll) - HeapCensus.TotalBytes(censusIdle)) / (double)o.Mappings;
        r.Memory.HostObjectCountPerMapping = (HeapCensus.TotalObjects(censusAll) - HeapCensus.TotalObjects(censusIdle)) / (double)o.Mappings;
        r.Memory.ClientsAllMappings = Sum(All(_workers, w => w.StatsAsync(s_guard)));
        Derive(r.Memory, o);

        // The same levels again on the way down (the newest mappings unmapped first): a level measured twice, at
        // different times, tells the level's cost from drift in the machine's load.
        foreach (int level in o.Levels.Reverse().Skip(1))
        {
            int[] perWorker = Split(level, o.WorkerCount);
            var levelFrom = DateTime.Now;
            Phase($"unmap down to {level}", () => All(_workers, w => w.MapAsync(perWorker[w.Index], s_mapGuard)));
            r.CurveDown.Add(Measure(level, o.Connections, levelFrom));
        }

        // Everything released by the clients: the fds must come back.
        Phase("unmap and close all", () =>
        {
            All(_workers, w => w.UnmapAsync(s_guard));
            All(_workers, w => w.CloseAsync(s_guard));
        });
        Phase("fds back: all closed", () => r.Fds.AfterAllClosed = WaitForFds(r.Fds.Baseline));
        Expect(r.Fds.AfterAllClosed == r.Fds.Baseline, $"host fds after every connection closed: {r.Fds.AfterAllClosed}, baseline {r.Fds.Baseline}");

        // Few connections holding the comparison's mappings (the many-connection point is on the curve).
        int[] fewShares = Split(o.FewConnections, o.WorkerCount);
        int[] fewMappings = [.. fewShares.Select(c => (int)((long)o.ComparisonMappings * c / o.FewConnections))];
        fewMappings[0] += o.ComparisonMappings - fewMappings.Sum();
        var fewFrom = DateTime.Now;
        Phase($"few connections: open {o.FewConnections}, map {o.ComparisonMappings}", () =>
        {
            All(_workers, w => w.OpenAsync(fewShares[w.Index], s_guard));
            All(_workers, w => w.MapAsync(fewMappings[w.Index], s_mapGuard));
        });
        r.Fds.FewConnectionsLive = ProcMemory.CountFds(HostPid);
        r.ConnectionComparison.Insert(0, Measure(o.ComparisonMappings, o.FewConnections, fewFrom));

        // Even workers release everything and exit; odd ones are killed with their connections and mappings live.
        Phase("workers leave", () =>
        {
            var clean = _workers.Where(w => w.Index % 2 == 0).ToList();
            All(clean, w => w.UnmapAsync(s_guard));
            All(clean, w => w.CloseAsync(s_guard));
            foreach (var w in clean) w.Exit(s_guard);
            foreach (var w in _workers.Where(w => w.Index % 2 == 1)) w.Kill();
            r.Fds.AfterWorkers = WaitForFds(r.Fds.Baseline);
        });
        Expect(r.Fds.AfterWorkers == r.Fds.Baseline, $"host fds after every worker left: {r.Fds.AfterWorkers}, baseline {r.Fds.Baseline}");

        // One connection holding many mappings of its own.
        Phase("probe's own mappings", () =>
        {
            foreach (int n in o.ProbeLevels)
            {
                var ownFrom = DateTime.Now;
                Probe.HoldOwn(n);
                r.ProbeOwnCurve.Add(Measure(n, 1, ownFrom));
            }
            Probe.ReleaseOwn();
        });
        Phase("settle and snapshot: workers gone", () => r.Memory.HostAfterWorkers = Snapshot());
        _probe.Dispose();
        _probe = null;
        Phase("fds back: probe closed", () => r.Fds.AfterProbe = WaitForFds(r.Fds.Baseline - 1));
        Expect(r.Fds.AfterProbe == r.Fds.Baseline - 1, $"host fds after the probe closed: {r.Fds.AfterProbe}, expected {r.Fds.Baseline - 1}");

        // SIGTERM: the host disconnects, unloads the driver (detach frees every cookie) and reports leaks.
        Phase("GC summary", SummariseGc);
        _gc!.Dispose();
        _gc = null;
        Phase("stop host", () => r.HostExitCode = Host.Stop(s_guard));
        r.HostLeaks.AddRange(Host.StandardError.Where(l => l.Contains("leak:", StringComparison.Ordinal)));
        Expect(r.HostExitCode == 0, $"umem host exited with code {r.HostExitCode}: {Host.Describe()}");
        Expect(r.HostLeaks.Count == 0, $"umem host reported {r.HostLeaks.Count} leaks");
    }

    /// <summary>
    /// Probe samples at one level (after the processes went quiet), the host's runtime suspensions while they ran,
    /// then a snapshot of the host after a full GC.
    /// </summary>
    private CurvePoint Measure(int mappings, int connections, DateTime levelFrom)
    {
        var quiet = CpuQuiet.Wait(QuietPids, _o.SettleMs);
        Probe.WarmUp(WarmUpRequests);
        _floor!.WarmUp(WarmUpRequests);
        var from = DateTime.Now;
        var map = Probe.MeasureMap(_o.Samples);
        // Map+unmap and the floor alternate in blocks, so that a change in the machine's load moves both. Not sample
        // by sample: the host would then do each MUNMAP while the floor's round trip runs, hiding its cost (the
        // client reads MUNMAP's reply only with its next request).
        var mapUnmapTicks = new long[_o.Samples];
        var floorTicks = new long[_o.Samples];
        for (int start = 0; start < _o.Samples; start += FloorBlock)
        {
            int end = Math.Min(_o.Samples, start + FloorBlock);
            for (int i = start; i < end; i++) mapUnmapTicks[i] = Probe.TimeMapUnmap();
            for (int i = start; i < end; i++) floorTicks[i] = _floor.TimeRoundTrip();
        }
        var to = DateTime.Now;
        var mapUnmap = LatencySeries.From(mapUnmapTicks);
        var floor = LatencySeries.From(floorTicks);
        var snapshot = Snapshot(settle: false);
        return new CurvePoint(mappings, connections, map, mapUnmap, floor, from, to,
            snapshot.Heap.Total, snapshot.Os.RssAnon, snapshot.Os.Threads, Math.Round(quiet.TotalSeconds, 2))
        { LevelFrom = levelFrom };
    }

    /// <summary>
    /// The host after a full GC: heap without garbage, then the kernel's view. After a burst (<paramref name="settle"/>)
    /// the processes are first left to go quiet, so the thread pool and the JIT are done with it.
    /// </summary>
    private HostSnapshot Snapshot(bool settle = true)
    {
        if (settle) CpuQuiet.Wait(QuietPids, _o.SettleMs);
        var heap = _gc!.CollectAndMeasure(s_guard);
        return new HostSnapshot(heap, ProcMemory.Read(HostPid));
    }

    private int[] QuietPids => [HostPid, Environment.ProcessId, .. _workers.Select(w => w.Pid)];

    private static void Derive(MemoryFigures m, ScaleOptions o)
    {
        var b = m.HostBase!;
        var c = m.HostIdleConnections!;
        var a = m.HostAllMappings!;
        m.HostHeapPerIdleConnection = (c.Heap.Total - b.Heap.Total) / (double)o.Connections;
        m.HostRssAnonPerIdleConnection = (c.Os.RssAnon - b.Os.RssAnon) / (double)o.Connections;
        m.HostAnonWritablePerIdleConnection = (c.Os.AnonWritable - b.Os.AnonWritable) / (double)o.Connections;
        m.HostHeapPerMapping = (a.Heap.Total - c.Heap.Total) / (double)o.Mappings;
        m.HostRssAnonPerMapping = (a.Os.RssAnon - c.Os.RssAnon) / (double)o.Mappings;
        m.HostAnonWritablePerMapping = (a.Os.AnonWritable - c.Os.AnonWritable) / (double)o.Mappings;
        var ci = m.ClientsIdle!;
        m.ClientRssAnonPerIdleConnection = (ci.RssAnon - m.ClientsBase!.RssAnon) / (double)o.Connections;
        var ca = m.ClientsAllMappings!;
        m.ClientRssAnonPerMapping = (ca.RssAnon - ci.RssAnon) / (double)o.Mappings;
        m.ClientPageTablesPerMapping = (ca.PageTables - ci.PageTables) / (double)o.Mappings;
        m.ClientVmasPerMapping = (ca.Maps - ci.Maps) / (double)o.Mappings;
    }

    /// <summary>
    /// Ends the GC recording (every event delivered), then counts the pauses in each level's samples and sums up,
    /// keeping the full GCs this benchmark induces (snapshots, heap censuses) apart from the host's own.
    /// </summary>
    private void SummariseGc()
    {
        _gc!.Finish();
        var all = _gc.Pauses;
        var collections = _gc.Collections;
        // The GC a pause belonged to is the last one started before it ended.
        GcStarted? GcOf(RuntimePause p) => collections.LastOrDefault(c => c.At <= p.At.AddMilliseconds(p.Milliseconds));
        bool Induced(RuntimePause p) => GcOf(p)?.Reason == "Induced";
        string Describe(GcStarted? gc) => gc is null ? "" : $"GC #{gc.Number} gen{gc.Generation} {gc.Reason} {gc.Type}";
        IReadOnlyList<RuntimePause> own = [.. all.Where(p => !Induced(p))];
        foreach (var curve in new[] { _results.Curve, _results.CurveDown, _results.ConnectionComparison, _results.ProbeOwnCurve })
        {
            for (int i = 0; i < curve.Count; i++)
            {
                var p = curve[i];
                var inside = all.Where(x => x.At >= p.SamplesFrom && x.At <= p.SamplesTo).ToList();
                var level = own.Where(x => x.At >= p.LevelFrom && x.At <= p.SamplesTo).OrderByDescending(x => x.Milliseconds).FirstOrDefault();
                curve[i] = p with
                {
                    PausesDuringSamples = inside.Count,
                    LongestPauseMs = inside.Count == 0 ? 0 : inside.Max(x => x.Milliseconds),
                    LongestOwnPauseMs = level?.Milliseconds ?? 0,
                    LongestOwnPauseGc = level is null ? "" : Describe(GcOf(level)),
                };
            }
        }
        var g = _results.Gc;
        g.ByGeneration = [.. Enumerable.Range(0, 3).Select(gen => collections.Count(c => c.Generation == gen))];
        g.Induced = collections.Count(c => c.Reason == "Induced");
        g.OwnBlockingGen2 = collections.Count(c => c.Generation == 2 && c.Reason != "Induced" && c.Type == "NonConcurrentGC");
        g.OwnBackgroundGen2 = collections.Count(c => c.Generation == 2 && c.Reason != "Induced" && c.Type == "BackgroundGC");
        g.Pauses = all.Count;
        g.LongestPauseMs = all.Count == 0 ? 0 : all.Max(p => p.Milliseconds);
        g.TotalPauseMs = all.Sum(p => p.Milliseconds);
        g.OwnPauses = own.Count;
        g.LongestOwnPauseMs = own.Count == 0 ? 0 : own.Max(p => p.Milliseconds);
        g.TotalOwnPauseMs = own.Sum(p => p.Milliseconds);
        g.LongestInducedPauseMs = all.Where(Induced).Select(p => p.Milliseconds).DefaultIfEmpty(0).Max();
        var ends = _gc.Ends;
        var work = collections
            .Where(c => c.Reason != "Induced" && c.Type != "BackgroundGC" && ends.ContainsKey(c.Number))
            .Select(c => (Gc: c, Ms: (ends[c.Number] - c.At).TotalMilliseconds))
            .OrderByDescending(x => x.Ms)
            .FirstOrDefault();
        g.LongestOwnBlockingGcMs = work.Gc is null ? 0 : work.Ms;
        g.LongestOwnBlockingGc = Describe(work.Gc);
        foreach (var (list, pauses) in new[] { (g.LongestPauses, all), (g.LongestOwnPauses, own) })
        {
            foreach (var p in pauses.OrderByDescending(p => p.Milliseconds).Take(10))
            {
                string which = GcOf(p) is { } gc ? $", {Describe(gc)}" : "";
                list.Add(FormattableString.Invariant($"{p.Milliseconds:F1} ms ({p.Reason}{which})"));
            }
        }
    }

    /// <summary>Polls the host's fd count until it is <paramref name="expected"/> (the host releases a gone client
    /// asynchronously), at most 30 s; returns the last count.</summary>
    private int WaitForFds(int expected)
    {
        var deadline = Stopwatch.StartNew();
        int n = ProcMemory.CountFds(HostPid);
        while (n != expected && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(50);
            n = ProcMemory.CountFds(HostPid);
        }
        return n;
    }

    private void Phase(string name, Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        _results.PhaseSeconds[name] = Math.Round(sw.Elapsed.TotalSeconds, 3);
    }

    private void Expect(bool condition, string failure)
    {
        if (!condition) _results.Failures.Add(failure);
    }

    /// <summary>Ends whatever is still running; after a failure a step may throw, which must not hide the failure.</summary>
    private void TearDown()
    {
        Quietly(() => _gc?.Dispose());
        Quietly(() => _probe?.Dispose());
        Quietly(() => _floor?.Dispose());
        foreach (var w in _workers) Quietly(w.Dispose);
        Quietly(() => _host?.Dispose());
    }

    private void Quietly(Action step)
    {
        try
        {
            step();
        }
        catch (Exception e)
        {
            _results.Failures.Add($"teardown: {e.GetType().Name}: {e.Message}");
        }
    }

    private static void All(IEnumerable<WorkerProcess> workers, Func<WorkerProcess, Task> command) =>
        Task.WhenAll(workers.Select(command)).GetAwaiter().GetResult();

    private static T[] All<T>(IEnumerable<WorkerProcess> workers, Func<WorkerProcess, Task<T>> command) =>
        Task.WhenAll(workers.Select(command)).GetAwaiter().GetResult();

    private static WorkerStats Sum(WorkerStats[] s) =>
        new(s.Sum(x => x.RssAnon), s.Sum(x => x.Rss), s.Sum(x => x.PageTables), s.Sum(x => x.Maps));

    /// <summary><paramref name="total"/> split over <paramref name="parts"/> as evenly as whole numbers allow.</summary>
    private static int[] Split(int total, int parts) => [.. Enumerable.Range(0, parts).Select(i => total / parts + (i < total % parts ? 1 : 0))];
}
