using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// The host's figures as System.Diagnostics.Metrics instruments under the meter <see cref="MeterName"/>
/// (<c>dotnet-counters monitor -n umem --counters Umem</c>, docs/operating.md): memory and counts observed from the
/// kernel's own state when a listener asks, requests and denials counted as they happen, and map latency. The
/// counts are also kept here for <c>umem stat</c>, which a meter cannot be asked for.
/// </summary>
/// <remarks>
/// The request path pays one array increment and, only while a listener is enabled, the instrument's own cost; no
/// allocation (tags are structs over cached strings).
/// </remarks>
public sealed class UmemMetrics : IDisposable
{
    /// <summary>The meter's name: the project's.</summary>
    public const string MeterName = "Umem";

    private const int Types = 16;
    private const int Results = 256;
    private static readonly string[] s_typeNames = [.. Enumerable.Range(0, Types).Select(t => Enum.IsDefined((MessageType)t) ? ((MessageType)t).ToString().ToLowerInvariant() : "invalid")];
    private static readonly string[] s_resultNames = [.. Enumerable.Range(0, Results).Select(e => e == 0 ? "ok" : ((Errno)e).Name())];
    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _denials;
    private readonly Histogram<double> _mapDuration;
    private readonly long[] _requestCounts = new long[Types * Results];
    private readonly ConcurrentDictionary<string, long> _denialCounts = new(StringComparer.Ordinal);

    /// <summary>Instruments over <paramref name="system"/>'s state.</summary>
    internal UmemMetrics(UmemSystem system)
    {
        _meter = new Meter(MeterName, typeof(UmemMetrics).Assembly.GetName().Version?.ToString());
        var allocator = system.Allocator;
        _meter.CreateObservableGauge("umem.memory.bytes", () => new[]
        {
            new Measurement<long>(allocator.GetStatistics().PageableBytes, new KeyValuePair<string, object?>("kind", "pageable")),
            new Measurement<long>(allocator.GetStatistics().LockedBytes, new KeyValuePair<string, object?>("kind", "locked")),
        }, "By", "Driver memory (ddi_umem_alloc) live now, by kind.");
        _meter.CreateObservableGauge("umem.cookies", () => new[]
        {
            new Measurement<long>(allocator.GetStatistics().PageableCount, new KeyValuePair<string, object?>("kind", "pageable")),
            new Measurement<long>(allocator.GetStatistics().LockedCount, new KeyValuePair<string, object?>("kind", "locked")),
        }, "{cookie}", "Live umem cookies, by kind.");
        _meter.CreateObservableGauge("umem.locked_memory.bytes", () => LockedMemory(system), "By",
            "Application memory locked with ddi_umem_lock, charged per project.");
        _meter.CreateObservableGauge("umem.mappings", () => system.Kernel.MappingCount, "{mapping}", "Live mappings of device memory.");
        _meter.CreateObservableGauge("umem.connections", () => system.Devices.ConnectionCount, "{connection}", "Device connections being served.");
        _meter.CreateObservableGauge("umem.waiters", () => allocator.GetStatistics().Waiters, "{caller}", "Callers waiting in a DDI_UMEM_SLEEP allocation.");
        _requests = _meter.CreateCounter<long>("umem.requests", "{request}", "Device requests served, by type and result (ok or the errno).");
        _denials = _meter.CreateCounter<long>("umem.denials", "{request}", "Requests and connections refused by a limit, by limit.");
        _mapDuration = _meter.CreateHistogram<double>("umem.map.duration", "s", "Time the host took to serve an MMAP request.");
    }

    /// <summary>The meter (a listener tells this host's instruments from another's in the same process by it).</summary>
    public Meter Meter => _meter;

    /// <summary>Counts a device request of <paramref name="type"/> that ended with <paramref name="result"/>, started at <paramref name="startTimestamp"/>.</summary>
    internal void Request(MessageType type, Errno result, long startTimestamp)
    {
        int t = (int)type is >= 0 and < Types ? (int)type : 0;
        int r = (int)result is >= 0 and < Results ? (int)result : Results - 1;
        Interlocked.Increment(ref _requestCounts[(t * Results) + r]);
        if (_requests.Enabled)
            _requests.Add(1, new KeyValuePair<string, object?>("type", s_typeNames[t]), new KeyValuePair<string, object?>("result", s_resultNames[r]));
        if (type == MessageType.Mmap && _mapDuration.Enabled)
            _mapDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("result", s_resultNames[r]));
    }

    /// <summary>Counts a request or connection refused by <paramref name="limit"/> ("opens per uid", "project.max-locked-memory").</summary>
    internal void Denied(string limit)
    {
        _denialCounts.AddOrUpdate(limit, 1, static (_, n) => n + 1);
        if (_denials.Enabled) _denials.Add(1, new KeyValuePair<string, object?>("limit", limit));
    }

    /// <summary>Requests served so far, by "type result" ("mmap ok", "open EACCES"), those with a count only.</summary>
    public IReadOnlyDictionary<string, long> RequestCounts()
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < _requestCounts.Length; i++)
        {
            long n = Interlocked.Read(ref _requestCounts[i]);
            if (n != 0) counts[$"{s_typeNames[i / Results]} {s_resultNames[i % Results]}"] = n;
        }
        return counts;
    }

    /// <summary>Refusals so far, by limit.</summary>
    public IReadOnlyDictionary<string, long> DenialCounts() => new SortedDictionary<string, long>(_denialCounts, StringComparer.Ordinal);

    private static IEnumerable<Measurement<long>> LockedMemory(UmemSystem system) =>
        system.ResourceControls.ProjectEntities
            .Where(p => p.LockedMemory.Usage > 0)
            .Select(p => new Measurement<long>((long)p.LockedMemory.Usage, new KeyValuePair<string, object?>("project", p.Name)));

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();
}
