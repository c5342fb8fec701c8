using System.Globalization;

namespace Umem.Bench.Scale;

/// <summary>The Markdown summary of a scale run (the JSON file has every figure).</summary>
internal static class ScaleReport
{
    public static void Write(ScaleResults r, TextWriter w)
    {
        var s = r.Setup;
        w.WriteLine();
        w.WriteLine(F($"## Scale ({(s.Quick ? "quick" : "full")} run): {s.Connections:N0} connections, {s.Mappings:N0} mappings, {s.Cookies:N0} cookies"));
        w.WriteLine();
        w.WriteLine(F($"{s.ProcessorCount} CPUs, {s.Runtime}, page {s.PageSize} B. Clients: {s.Clients}. {s.Samples:N0} samples per series and level; latencies in µs; host heap after a full GC. Load average {r.LoadAtStart} at the start, {r.LoadAtEnd} at the end."));
        w.WriteLine();
        w.WriteLine($"Host GC: {r.HostGc}.");
        w.WriteLine();
        Curve(w, "Map latency against live mappings (host-wide)", r.Curve);
        Curve(w, "The same levels on the way back down", r.CurveDown);
        Curve(w, "Live connections at a fixed number of mappings", r.ConnectionComparison);
        Curve(w, "Mappings held by the probe's own connection (workers gone)", r.ProbeOwnCurve);

        var m = r.Memory;
        w.WriteLine("### Host memory (each after a full GC)");
        w.WriteLine();
        w.WriteLine("| stage | managed heap | RssAnon | anon writable (virtual) | Pss | RssShmem | threads |");
        w.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Row(w, "baseline (cookies, probe)", m.HostBase);
        Row(w, F($"{s.Connections:N0} idle connections"), m.HostIdleConnections);
        Row(w, F($"+ {s.Mappings:N0} mappings"), m.HostAllMappings);
        Row(w, "workers gone", m.HostAfterWorkers);
        w.WriteLine();
        w.WriteLine(F($"- host per idle connection: **{m.HostObjectsPerIdleConnection:N0} B** in {m.HostObjectCountPerIdleConnection:0.#} live objects ({m.HostHeapPerIdleConnection:N0} B managed heap), {m.HostRssAnonPerIdleConnection:N0} B resident (RssAnon), {m.HostAnonWritablePerIdleConnection:N0} B anon writable, {r.Fds.PerIdleConnection:0.###} fd"));
        w.WriteLine(F($"- host per mapping: **{m.HostObjectsPerMapping:N0} B** in {m.HostObjectCountPerMapping:0.#} live objects ({m.HostHeapPerMapping:N0} B managed heap), {m.HostRssAnonPerMapping:N0} B resident (RssAnon), {m.HostAnonWritablePerMapping:N0} B anon writable, {r.Fds.PerMapping:0.###} fd"));
        w.WriteLine(F($"- client per idle connection: {m.ClientRssAnonPerIdleConnection:N0} B RssAnon; per mapping: {m.ClientRssAnonPerMapping:N0} B RssAnon, {m.ClientPageTablesPerMapping:N0} B page tables, {m.ClientVmasPerMapping:0.###} VMA"));
        w.WriteLine();
        ByType(w, "What an idle connection keeps alive in the host", m.PerIdleConnectionByType);
        ByType(w, "What a mapping keeps alive in the host", m.PerMappingByType);

        var f = r.Fds;
        w.WriteLine("### Host fds");
        w.WriteLine();
        w.WriteLine("| started | baseline (cookies, probe) | idle connections | all mappings | all closed | few connections live | workers gone | probe closed |");
        w.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        w.WriteLine(F($"| {f.HostStarted} | {f.Baseline} | {f.IdleConnections} | {f.AllMappings} | {f.AfterAllClosed} | {f.FewConnectionsLive} | {f.AfterWorkers} | {f.AfterProbe} |"));
        w.WriteLine();

        var g = r.Gc;
        w.WriteLine(F($"### Host GCs: {g.ByGeneration[0]} gen0, {g.ByGeneration[1]} gen1, {g.ByGeneration[2]} gen2 ({g.Induced} induced for the snapshots); {g.Pauses} runtime suspensions, {g.TotalPauseMs:F0} ms in all, longest {g.LongestPauseMs:F1} ms"));
        w.WriteLine();
        w.WriteLine(F($"The host's own (not induced): {g.OwnPauses} suspensions, {g.TotalOwnPauseMs:F0} ms in all, longest **{g.LongestOwnPauseMs:F1} ms**; gen2: **{g.OwnBlockingGen2} blocking**, {g.OwnBackgroundGen2} background. Its longest blocking GC from start to end (its own work, without the wait for the threads to stop): {g.LongestOwnBlockingGcMs:F1} ms ({g.LongestOwnBlockingGc}). Induced full blocking GCs (snapshots, heap censuses): longest {g.LongestInducedPauseMs:F1} ms."));
        w.WriteLine();
        w.WriteLine("Longest of all:");
        w.WriteLine();
        foreach (string p in g.LongestPauses) w.WriteLine($"- {p}");
        w.WriteLine();
        w.WriteLine("Longest of the host's own:");
        w.WriteLine();
        foreach (string p in g.LongestOwnPauses) w.WriteLine($"- {p}");
        w.WriteLine();
        w.WriteLine(F($"Host exit code {r.HostExitCode}, {r.HostLeaks.Count} leaks reported. Run time {r.TotalSeconds:F1} s:"));
        w.WriteLine(string.Join(", ", r.PhaseSeconds.Select(p => F($"{p.Key} {p.Value:F2} s"))) + ".");
        w.WriteLine();
        if (r.Failures.Count == 0)
        {
            w.WriteLine("No failures.");
        }
        else
        {
            w.WriteLine("**FAILURES:**");
            foreach (string x in r.Failures) w.WriteLine($"- {x}");
        }
    }

    private static void Curve(TextWriter w, string title, List<CurvePoint> points)
    {
        if (points.Count == 0) return;
        w.WriteLine($"### {title}");
        w.WriteLine();
        w.WriteLine("| mappings | connections | Map p50 | p99 | p99.9 | p99.9 / p50 | Map+Unmap p50 | p99 | p99.9 | floor p50 | Map+Unmap / floor (p50) | host pauses in samples (longest ms) | host's own longest pause at the level, burst included (ms) | host heap MiB |");
        w.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in points)
        {
            w.WriteLine(F($"| {p.Mappings:N0} | {p.Connections:N0} | {p.Map.P50:F1} | {p.Map.P99:F1} | {p.Map.P999:F1} | {p.Map.P999 / p.Map.P50:F1} | {p.MapUnmap.P50:F1} | {p.MapUnmap.P99:F1} | {p.MapUnmap.P999:F1} | {p.Floor.P50:F1} | {p.MapUnmap.P50 / p.Floor.P50:F2} | {p.PausesDuringSamples} ({p.LongestPauseMs:F1}) | {p.LongestOwnPauseMs:F1} {p.LongestOwnPauseGc} | {p.HostHeap / 1048576.0:F1} |"));
        }
        w.WriteLine();
    }

    private static void ByType(TextWriter w, string title, List<TypeGrowth> types)
    {
        if (types.Count == 0) return;
        w.WriteLine(F($"#### {title} (heap walks; the {types.Count} types that grew most, {types.Sum(t => t.BytesPerUnit):N0} B)"));
        w.WriteLine();
        w.WriteLine("| type | objects each | bytes each |");
        w.WriteLine("|---|---:|---:|");
        foreach (var t in types) w.WriteLine(F($"| `{t.Type}` | {t.ObjectsPerUnit:0.##} | {t.BytesPerUnit:N0} |"));
        w.WriteLine();
    }

    private static void Row(TextWriter w, string stage, HostSnapshot? h)
    {
        if (h is null) return;
        var m = h.Os;
        w.WriteLine(F($"| {stage} | {Mib(h.Heap.Total)} | {Mib(m.RssAnon)} | {Mib(m.AnonWritable)} | {Mib(m.Pss)} | {Mib(m.RssShmem)} | {m.Threads} |"));
    }

    private static string Mib(long bytes) => F($"{bytes / 1048576.0:F1} MiB");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
