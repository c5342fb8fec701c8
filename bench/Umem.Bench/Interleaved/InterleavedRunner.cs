using System.Diagnostics;
using System.Globalization;

namespace Umem.Bench.Interleaved;

/// <summary>
/// Runs operations round-robin, a batch of each per round, and reports per operation the best and the median
/// round (µs per operation) and the ratio to the baseline's. On a shared 2-core machine BenchmarkDotNet's
/// one-benchmark-after-another order lets the load change between a benchmark and its baseline; interleaving
/// puts every operation under the same load, and the best round is the least disturbed.
/// </summary>
internal static class InterleavedRunner
{
    internal static void Run(string title, IReadOnlyList<(string Name, Action Op)> ops, string baseline, int rounds, int batch)
    {
        foreach (var (_, op) in ops)
        {
            for (int i = 0; i < batch; i++) op(); // warm-up: JIT tiers, caches, the host's pools
        }
        var samples = ops.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < ops.Count; k++)
            {
                var op = ops[k].Op;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < batch; i++) op();
                samples[k][r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / batch;
            }
        }
        int b = ops.Select(o => o.Name).ToList().IndexOf(baseline);
        double bestBase = samples[b].Min(), medianBase = Median(samples[b]);
        Console.WriteLine($"## {title}: {rounds} rounds of {batch}, interleaved; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine();
        Console.WriteLine("| operation | best round (µs) | median round (µs) | ratio (best) | ratio (median) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (int k = 0; k < ops.Count; k++)
        {
            double best = samples[k].Min(), median = Median(samples[k]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {ops[k].Name}{(k == b ? " (baseline)" : "")} | {best:F2} | {median:F2} | {best / bestBase:F2} | {median / medianBase:F2} |"));
        }
        Console.WriteLine();
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
