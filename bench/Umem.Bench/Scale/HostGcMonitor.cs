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
    private readonly List<(int AfterStarts, GcHeap Heap)> _heaps = [];
    private (DateTime At, string Reason)? _suspended;

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
        _source.Clr.GCHeapStats += e =>
        {
            var heap = new GcHeap(e.TotalHeapSize, e.GenerationSize0, e.GenerationSize1, e.GenerationSize2, e.GenerationSize3,
                e.GenerationSize4, e.PinnedObjectCount, e.GCHandleCount);
            lock (_gate) _heaps.Add((_starts.Count, heap));
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

    /// <summary>Suspensions recorded so far (for slicing a window with <see cref="PausesSince"/>).</summary>
    public int PauseCount
    {
        get
        {
            lock (_gate) return _pauses.Count;
        }
    }

    public IReadOnlyList<RuntimePause> PausesSince(int index)
    {
        lock (_gate) return [.. _pauses.Skip(index)];
    }

    /// <summary>Every GC started so far.</summary>
    public IReadOnlyList<GcStarted> Collections
    {
        get
        {
            lock (_gate) return [.. _starts];
        }
    }

    /// <summary>Makes the host run a full blocking GC and returns its heap afterwards.</summary>
    public GcHeap CollectAndMeasure(TimeSpan guard)
    {
        int starts;
        lock (_gate) starts = _starts.Count;
        // Enabling the provider with GCHeapCollect is the request; the session itself carries nothing we read.
        using (var trigger = _client.StartEventPipeSession(
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GCHeapCollect), requestRundown: false))
        {
            var drain = Task.Run(() => trigger.EventStream.CopyTo(Stream.Null));
            var deadline = DateTime.UtcNow + guard;
            GcHeap? heap = null;
            while (heap is null && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
                lock (_gate)
                {
                    for (int i = starts; i < _starts.Count && heap is null; i++)
                    {
                        if (_starts[i].Reason != "Induced") continue;
                        // The induced GC is blocking: the first heap statistics after its start are its own.
                        heap = _heaps.FirstOrDefault(h => h.AfterStarts == i + 1).Heap;
                    }
                }
            }
            trigger.Stop();
            drain.Wait(guard);
            return heap ?? throw new TimeoutException($"the host ran no induced GC within {guard.TotalSeconds} s");
        }
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or EndOfStreamException or IOException)
        {
            // The host is gone: the stream ended with it.
        }
        _processing.Wait(TimeSpan.FromSeconds(10));
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
