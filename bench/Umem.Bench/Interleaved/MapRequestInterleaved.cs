using System.Globalization;

namespace Umem.Bench.Interleaved;

/// <summary>`maprequest [rounds] [batch]`: the MapRequestBenchmarks operations, interleaved (see InterleavedRunner).</summary>
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
            InterleavedRunner.Run("Map requests (issue 5, issue 7 path 2)",
            [
                ("BareRoundTripWithFd", b.BareRoundTripWithFd),
                ("MapUnmapThroughHost", b.MapUnmapThroughHost),
                ("BareRoundTripWithFdSpinningServer", b.BareRoundTripWithFdSpinningServer),
                ("MapUnmapLocalMemfd", b.MapUnmapLocalMemfd),
                ("BareRoundTrip", b.BareRoundTrip),
                ("IoctlThroughHost", b.IoctlThroughHost),
            ], "BareRoundTripWithFd", rounds, batch);
        }
        finally
        {
            b.Cleanup();
        }
        return 0;
    }
}
