using System.Globalization;

namespace Umem.Bench.Interleaved;

/// <summary>
/// `maprequest [rounds] [batch] [only]`: the MapRequestBenchmarks operations, interleaved (see InterleavedRunner).
/// With `only`, just that operation: for counting what one operation costs the whole process
/// tree under `perf stat` (system calls, context switches per operation).
/// </summary>
internal static class MapRequestInterleaved
{
    internal static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
        var b = new MapRequestBenchmarks();
        b.Setup();
        try
        {
            (string Name, Action Op)[] ops =
            [
                ("BareRoundTripWithFd", b.BareRoundTripWithFd),
                ("MapUnmapThroughHost", b.MapUnmapThroughHost),
                ("BareRoundTripWithFdSpinningServer", b.BareRoundTripWithFdSpinningServer),
                ("MapUnmapLocalMemfd", b.MapUnmapLocalMemfd),
                ("BareRoundTrip", b.BareRoundTrip),
                ("IoctlThroughHost", b.IoctlThroughHost),
            ];
            if (args.Length > 2)
            {
                ops = [.. ops.Where(o => o.Name == args[2])];
                if (ops.Length == 0) throw new ArgumentException($"no map-request operation named {args[2]}", nameof(args));
            }
            InterleavedRunner.Run("Map requests (issue 5, issue 7 path 2)", ops, ops[0].Name, rounds, batch);
        }
        finally
        {
            b.Cleanup();
        }
        return 0;
    }
}
