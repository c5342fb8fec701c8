using System.Diagnostics;
using System.Globalization;
using Umem.Platform;

namespace Umem.Bench.Interleaved;

/// <summary>
/// `interleaved charge [rounds] [ops]`: the charge path (TryChargeLockedMemory + UnchargeLockedMemory) from one and
/// from two threads, measured in each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) as well as wall time.
/// </summary>
/// <remarks>
/// Wall time cannot show scaling on a shared 2-core machine: when other work holds a CPU, two threads take turns and
/// every two-thread variant looks twice as slow. CPU time per operation does not count the time a thread waited
/// for a CPU; what it does count is the cost of shared cache lines while the two threads really run at once. So:
/// two threads on state of their own should cost what one thread costs (ratio ≈ 1), and the fully shared variant
/// (same project and zone) is the control that shows the measurement can see sharing at all. The wall-clock overlap
/// of the two threads' loops is printed beside, since sharing can only cost while both run.
/// </remarks>
internal static class ChargeScaling
{
    internal static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 9;
        int ops = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000_000;
        var bench = new LockBenchmarks();
        bench.Setup();
        try
        {
            var variants = bench.ChargeVariants();
            var cpu = variants.Select(_ => new List<double>()).ToArray();
            var wall = variants.Select(_ => new List<double>()).ToArray();
            var overlap = variants.Select(_ => new List<double>()).ToArray();
            foreach (var (_, threads) in variants) RunOnce(bench, threads, ops / 10); // warm-up (JIT tiers)
            for (int r = 0; r < rounds; r++)
            {
                for (int v = 0; v < variants.Count; v++)
                {
                    var (cpuNs, wallNs, ov) = RunOnce(bench, variants[v].Threads, ops);
                    cpu[v].Add(cpuNs);
                    wall[v].Add(wallNs);
                    overlap[v].Add(ov);
                }
            }
            double baseCpu = InterleavedRunner.Median(cpu[0]), baseWall = InterleavedRunner.Median(wall[0]);
            Console.WriteLine($"## Charge path, {rounds} rounds of {ops:N0} charge+uncharge per thread, interleaved; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine();
            Console.WriteLine("| variant | CPU ns/op per thread (median) | ratio | wall ns/op per thread (median) | ratio | loops overlapping (median) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            for (int v = 0; v < variants.Count; v++)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {variants[v].Name} | {InterleavedRunner.Median(cpu[v]):F1} | {InterleavedRunner.Median(cpu[v]) / baseCpu:F2} | {InterleavedRunner.Median(wall[v]):F1} | {InterleavedRunner.Median(wall[v]) / baseWall:F2} | {(v == 0 ? "—" : $"{InterleavedRunner.Median(overlap[v]):P0}")} |"));
            }
            Console.WriteLine();
        }
        finally
        {
            bench.Cleanup();
        }
        return 0;
    }

    /// <summary>Runs the loop on one dedicated thread per target, started together; returns the mean per-thread CPU and wall ns per op and the overlap.</summary>
    private static (double CpuNs, double WallNs, double Overlap) RunOnce(LockBenchmarks bench, (Kernel.ResourceControls.RctlEntity Project, Kernel.ResourceControls.RctlEntity Zone)[] targets, int ops)
    {
        int n = targets.Length;
        var cpu = new double[n];
        var start = new long[n];
        var end = new long[n];
        using var go = new Barrier(n);
        var threads = new Thread[n];
        for (int i = 0; i < n; i++)
        {
            int k = i;
            threads[k] = new Thread(() =>
            {
                go.SignalAndWait();
                long c0 = ThreadCpuNs();
                start[k] = Stopwatch.GetTimestamp();
                bench.ChargeLoop(targets[k].Project, targets[k].Zone, ops);
                end[k] = Stopwatch.GetTimestamp();
                cpu[k] = (ThreadCpuNs() - c0) / (double)ops;
            });
            threads[k].Start();
        }
        foreach (var t in threads) t.Join();
        double wallNs = Enumerable.Range(0, n).Average(i => Stopwatch.GetElapsedTime(start[i], end[i]).TotalNanoseconds) / ops;
        double overlap = 1;
        if (n == 2)
        {
            long both = Math.Max(0, Math.Min(end[0], end[1]) - Math.Max(start[0], start[1]));
            long either = Math.Max(end[0], end[1]) - Math.Min(start[0], start[1]);
            overlap = either == 0 ? 0 : both / (double)either;
        }
        return (cpu.Average(), wallNs, overlap);
    }

    private static unsafe long ThreadCpuNs()
    {
        Interop.timespec ts;
        if (Interop.clock_gettime(Interop.CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
            throw new ErrnoException(Interop.LastErrno, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        return ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    }
}
