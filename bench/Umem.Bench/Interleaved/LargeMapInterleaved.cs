using System.Globalization;
using Umem.Bench.Large;

namespace Umem.Bench.Interleaved;

/// <summary>
/// `largemap [rounds]`: HostLargeMapBenchmarks interleaved (see InterleavedRunner), one host per size: alloc + map
/// + touch every page + unmap + free through the host, and the passed-memfd baseline, round-robin, so both see the
/// same load. BenchmarkDotNet runs one after the other, and a 1 GiB operation takes seconds on this shared machine.
/// </summary>
internal static class LargeMapInterleaved
{
    internal static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        // Operations per batch: about the same time per round for every size.
        foreach (var (pages, batch) in new[] { (1, 400), (256, 40), (16384, 2), (262144, 1) })
        {
            var b = new HostLargeMapBenchmarks { Pages = pages };
            b.Setup();
            try
            {
                (string Name, Action Op)[] ops = [("raw: memfd passed", b.RawMemfdPassed), ("host: alloc+map+free", b.ThroughHost)];
                InterleavedRunner.Run(string.Create(CultureInfo.InvariantCulture, $"Large maps through the host, {pages} pages"), ops, ops[0].Name, rounds, batch);
            }
            finally
            {
                b.Cleanup();
            }
        }
        return 0;
    }
}
