using System.Diagnostics;
using System.Globalization;

namespace Umem.Bench.Scale;

/// <summary>
/// Waits until processes stop using the CPU: after a burst, the host and the workers still promote methods to
/// tier 1, run background GCs and retire thread-pool threads, which on two cores would show up in the next
/// level's tail latencies as noise rather than as a property of the level.
/// </summary>
internal static class CpuQuiet
{
    /// <summary>
    /// Quiet: all <paramref name="pids"/> together used less than 1.5 % of one CPU in each of two windows of
    /// <paramref name="windowMs"/> in a row (the runtime delays tier-1 compilation by 100 ms after the last new
    /// method, so one short quiet window can fall before a burst of JIT work). At most 10 s; a window of 0 does not wait.
    /// </summary>
    public static TimeSpan Wait(IReadOnlyCollection<int> pids, int windowMs)
    {
        if (windowMs == 0) return TimeSpan.Zero;
        var waited = Stopwatch.StartNew();
        long before = CpuNanoseconds(pids);
        long budget = windowMs * 15_000L; // ns: 1.5 % of the window
        int quietWindows = 0;
        while (quietWindows < 2 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(windowMs);
            long now = CpuNanoseconds(pids);
            quietWindows = now - before < budget ? quietWindows + 1 : 0;
            before = now;
        }
        return waited.Elapsed;
    }

    /// <summary>CPU time of every thread of the processes (first field of /proc/PID/task/TID/schedstat, ns).</summary>
    private static long CpuNanoseconds(IEnumerable<int> pids)
    {
        long total = 0;
        foreach (int pid in pids)
        {
            string tasks = $"/proc/{pid}/task";
            if (!Directory.Exists(tasks)) continue;
            foreach (string task in Directory.EnumerateDirectories(tasks))
            {
                try
                {
                    string text = File.ReadAllText(Path.Combine(task, "schedstat"));
                    total += long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The thread exited between the listing and the read.
                }
            }
        }
        return total;
    }
}
