using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Umem.Host;
using Umem.Platform;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>
/// The meter "Umem" as a listener (dotnet-counters, OpenTelemetry) sees it: a live host, a real client process, and
/// the instruments' values matching what the client did.
/// </summary>
public sealed class MetricsTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task TheInstrumentsShowTheHostsState()
    {
        await using var host = TestHost.Start();
        var meter = host.Umemd.Metrics.Meter;
        Assert.Equal(UmemMetrics.MeterName, meter.Name);
        var longs = new ConcurrentDictionary<string, long>();
        var durations = new ConcurrentBag<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            longs.AddOrUpdate(Key(instrument.Name, tags), value, (_, old) => instrument is Counter<long> ? old + value : value));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => longs[Key(instrument.Name, tags)] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => durations.Add(value));
        listener.Start();

        using var app = ChildProcess.StartTestApp(null, "client");
        app.Ok($"open {host.Path}");
        app.Ok($"map 0 {2 * Page} rw");
        app.Ok($"map {2 * Page} {Page} r");
        string refused = app.Command($"map {2 * Page} {Page} rw"); // beyond the page's maxprot: the kernel refuses it
        Assert.StartsWith("err E", refused, StringComparison.Ordinal);
        string errno = refused.Split(' ')[1];
        listener.RecordObservableInstruments();

        Assert.Equal(4L * Page, longs["umem.memory.bytes kind=pageable"]);
        Assert.Equal(0, longs["umem.memory.bytes kind=locked"]);
        Assert.Equal(1, longs["umem.cookies kind=pageable"]);
        Assert.Equal(2, longs["umem.mappings"]);
        Assert.Equal(1, longs["umem.connections"]);
        Assert.Equal(2, longs["umem.requests result=ok type=mmap"]);
        Assert.Equal(1, longs[$"umem.requests result={errno} type=mmap"]);
        Assert.Equal(1, longs["umem.requests result=ok type=open"]);
        Assert.Equal(3, durations.Count); // one map latency per MMAP, refused ones included
        Assert.All(durations, d => Assert.True(d > 0));
    }

    private static string Key(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new List<string>();
        foreach (var t in tags) parts.Add($"{t.Key}={t.Value}");
        parts.Sort(StringComparer.Ordinal);
        return parts.Count == 0 ? name : $"{name} {string.Join(' ', parts)}";
    }
}
