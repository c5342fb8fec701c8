using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Umem.Bench.Scale;

/// <summary>
/// The host's live objects by type: a full GC with a heap walk (the runtime provider's heap-snapshot keywords, as
/// dotnet-gcdump asks for them), summed per type from the bulk node events. Two censuses apart tell what each
/// connection or mapping keeps alive, type by type.
/// </summary>
internal static class HeapCensus
{
    /// <summary>Type name → (objects, bytes) of every live object in the host after a full GC.</summary>
    public static Dictionary<string, TypeTotal> Take(int pid, TimeSpan guard)
    {
        var client = new DiagnosticsClient(pid);
        using var session = client.StartEventPipeSession(
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GCHeapSnapshot),
            requestRundown: false, circularBufferMB: 256);
        using var source = new EventPipeEventSource(session.EventStream);
        var names = new Dictionary<ulong, string>();
        var sizes = new Dictionary<ulong, (long Count, long Bytes)>();
        var walked = new ManualResetEventSlim();
        source.Clr.TypeBulkType += e =>
        {
            for (int i = 0; i < e.Count; i++)
            {
                var t = e.Values(i);
                names[t.TypeID] = t.TypeName;
            }
        };
        source.Clr.GCBulkNode += e =>
        {
            for (int i = 0; i < e.Count; i++)
            {
                var n = e.Values(i);
                var s = sizes.GetValueOrDefault(n.TypeID);
                sizes[n.TypeID] = (s.Count + 1, s.Bytes + (long)n.Size);
            }
        };
        // The walk runs inside the induced GC; its heap statistics come after every node of it.
        source.Clr.GCHeapStats += _ => walked.Set();
        var processing = Task.Run(() => source.Process());
        bool done = walked.Wait(guard);
        session.Stop();
        processing.Wait(guard);
        if (!done) throw new TimeoutException($"the host's heap walk did not finish within {guard.TotalSeconds} s");
        var byName = new Dictionary<string, TypeTotal>(StringComparer.Ordinal);
        foreach (var (type, (count, bytes)) in sizes)
        {
            string name = names.GetValueOrDefault(type) ?? $"type 0x{type:x}";
            var t = byName.GetValueOrDefault(name);
            byName[name] = new TypeTotal(t.Objects + count, t.Bytes + bytes);
        }
        return byName;
    }

    /// <summary>Bytes of every live object of a census.</summary>
    public static long TotalBytes(Dictionary<string, TypeTotal> census) => census.Values.Sum(t => t.Bytes);

    /// <summary>Every live object of a census.</summary>
    public static long TotalObjects(Dictionary<string, TypeTotal> census) => census.Values.Sum(t => t.Objects);

    /// <summary>
    /// The types whose bytes grew most from <paramref name="before"/> to <paramref name="after"/>, per
    /// <paramref name="units"/> (connections, mappings), largest first, those covering at least 1 byte each.
    /// </summary>
    public static List<TypeGrowth> Growth(Dictionary<string, TypeTotal> before, Dictionary<string, TypeTotal> after, int units, int top)
    {
        var growth = new List<TypeGrowth>();
        foreach (var (name, a) in after)
        {
            var b = before.GetValueOrDefault(name);
            double bytes = (a.Bytes - b.Bytes) / (double)units;
            if (bytes >= 1) growth.Add(new TypeGrowth(name, (a.Objects - b.Objects) / (double)units, bytes));
        }
        return [.. growth.OrderByDescending(g => g.BytesPerUnit).Take(top)];
    }
}

/// <summary>Live objects of one type and their bytes.</summary>
internal readonly record struct TypeTotal(long Objects, long Bytes);

/// <summary>What one unit (a connection, a mapping) added of a type: objects and bytes.</summary>
internal sealed record TypeGrowth(string Type, double ObjectsPerUnit, double BytesPerUnit);
