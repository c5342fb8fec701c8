using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Umem.Bench.Scale;

/// <summary>
/// The host's garbage collector, seen through the runtime's diagnostics port (EventPipe): every runtime suspension
/// (GC pauses above all) with its length, every GC, the heap after each, and full GCs on request — enabling the
/// runtime provider with the GCHeapCollect keyword makes the runtime run one, as dotnet-gcdump does. Heap sizes
/// read right after such a GC hold no garbage: the host's gen0 budget on this machine is tens of MiB, which would
/// swamp a per-connection figure read from RSS alone. (The diagnostics client and the trace parser are the ones
/// BenchmarkDotNet brings for its own diagnosers.)
/// </summary>
internal sealed class HostGcMonitor : IDisposable
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private readonly DiagnosticsClient _client;
    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _source;
    private readonly Task _processing;
    private readonly Lock _gate = new();
    private readonly List<RuntimePause> _pauses = [];
    private readonly List<GcStarted> _starts = [];
    private readonly Dictionary<int, DateTime> _ends = [];
    private (DateTime At, string Reason)? _suspended;
    private bool _finished;

    private HostGcMonitor(DiagnosticsClient client, EventPipeSession session)
    {
        _client = client;
        _session = session;
        _source = new EventPipeEventSource(session.EventStream);
        _source.Clr.GCSuspendEEStart += e =>
        {
            lock (_gate) _suspended = (e.TimeStamp, e.Reason.ToString());
        };
        _source.Clr.GCRestartEEStop += e =>
        {
            lock (_gate)
            {
                if (_suspended is { } s) _pauses.Add(new RuntimePause(s.At, (e.TimeStamp - s.At).TotalMilliseconds, s.Reason));
                _suspended = null;
            }
        };
        _source.Clr.GCStart += e =>
        {
            lock (_gate) _starts.Add(new GcStarted(e.TimeStamp, e.Count, e.Depth, e.Reason.ToString(), e.Type.ToString()));
        };
        _source.Clr.GCStop += e =>
        {
            lock (_gate) _ends[e.Count] = e.TimeStamp;
        };
        _processing = Task.Run(() => _source.Process());
    }

    /// <summary>Attaches to the host's diagnostics port and starts recording its GCs.</summary>
    public static HostGcMonitor Start(int pid)
    {
        var client = new DiagnosticsClient(pid);
        var session = client.StartEventPipeSession(
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GC), requestRundown: false);
        return new HostGcMonitor(client, session);
    }

    /// <summary>Every suspension recorded so far (complete once <see cref="Finish"/> returned).</summary>
    public IReadOnlyList<RuntimePause> Pauses
    {
        get
        {
            lock (_gate) return [.. _pauses];
        }
    }

    /// <summary>Every GC started so far (complete once <see cref="Finish"/> returned).</summary>
    public IReadOnlyList<GcStarted> Collections
    {
        get
        {
            lock (_gate) return [.. _starts];
        }
    }

    /// <summary>
    /// When each GC ended, by number (complete once <see cref="Finish"/> returned). From start to end is the GC's
    /// own work; a pause adds the wait for every thread to stop, which on a loaded machine can be most of it.
    /// </summary>
    public IReadOnlyDictionary<int, DateTime> Ends
    {
        get
        {
            lock (_gate) return new Dictionary<int, DateTime>(_ends);
        }
    }

    /// <summary>
    /// Makes the host run a full blocking GC and returns its heap afterwards. The request is a session of its own
    /// that also carries the GC's events: stopping it flushes them, so the answer never waits on the runtime's or the
    /// parser's buffering.
    /// </summary>
    public GcHeap CollectAndMeasure(TimeSpan guard)
    {
        using var trigger = _client.StartEventPipeSession(
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational,
                (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect)), requestRundown: false);
        using var source = new EventPipeEventSource(trigger.EventStream);
        GcHeap? heap = null;
        bool induced = false;
        var seen = new ManualResetEventSlim();
        source.Clr.GCStart += e => induced |= e.Reason.ToString() == "Induced";
        source.Clr.GCHeapStats += e =>
        {
            // The induced GC is blocking: the first heap statistics after its start are its own.
            if (!induced || heap is not null) return;
            heap = new GcHeap(e.TotalHeapSize, e.GenerationSize0, e.GenerationSize1, e.GenerationSize2, e.GenerationSize3,
                e.GenerationSize4, e.PinnedObjectCount, e.GCHandleCount);
            seen.Set();
        };
        var processing = Task.Run(() => source.Process());
        seen.Wait(TimeSpan.FromSeconds(2));
        trigger.Stop();
        if (!processing.Wait(guard)) throw new TimeoutException($"the host's GC events did not end within {guard.TotalSeconds} s");
        return heap ?? throw new InvalidOperationException("the host ran no induced GC (no heap statistics after an induced GC start)");
    }

    /// <summary>Stops recording; the stream's end delivers every event still buffered in the runtime or the parser.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        try
        {
            _session.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or EndOfStreamException or IOException)
        {
            // The host is gone: the stream ended with it.
        }
        _processing.Wait(TimeSpan.FromSeconds(30));
    }

    public void Dispose()
    {
        Finish();
        _source.Dispose();
        _session.Dispose();
    }
}
/// <summary>A runtime suspension of the host (a GC's pause, or another reason the runtime stops all threads).</summary>
internal sealed record RuntimePause(DateTime At, double Milliseconds, string Reason);

/// <summary>A GC as it started: its number, generation, why and how.</summary>
internal sealed record GcStarted(DateTime At, int Number, int Generation, string Reason, string Type);

/// <summary>The managed heap after a GC, in bytes (gen3 is the large-object heap, gen4 the pinned-object heap).</summary>
internal sealed record GcHeap(long Total, long Gen0, long Gen1, long Gen2, long LargeObjects, long PinnedObjectHeap, int PinnedObjects, int Handles);
