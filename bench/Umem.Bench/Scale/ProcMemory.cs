using System.Globalization;

namespace Umem.Bench.Scale;

/// <summary>
/// What the kernel says about a process's memory: /proc/PID/status (VmRSS and its parts, page tables, threads)
/// and /proc/PID/smaps_rollup (Pss, private pages). Bytes throughout. The host makes itself non-dumpable, so
/// reading another process's files needs root (CAP_SYS_PTRACE).
/// </summary>
/// <remarks>
/// <see cref="AnonWritable"/> is virtual, not resident: the size of the private writable anonymous mappings, which
/// is what the GC has committed (it commits with mprotect), the malloc arenas' used parts and the thread stacks.
/// Memory the GC hands out uninitialised (ArrayPool buffers) is committed there but resident only where touched.
/// </remarks>
internal sealed record ProcMemory(long Rss, long RssAnon, long RssFile, long RssShmem, long PageTables, int Threads,
    long Pss, long PssAnon, long PrivateClean, long PrivateDirty, long AnonWritable)
{
    public static ProcMemory Read(int pid)
    {
        var status = ReadKiB($"/proc/{pid}/status");
        var rollup = ReadKiB($"/proc/{pid}/smaps_rollup");
        return new ProcMemory(status["VmRSS"], status["RssAnon"], status["RssFile"], status["RssShmem"], status["VmPTE"],
            (int)status["Threads"], rollup["Pss"], rollup.GetValueOrDefault("Pss_Anon"), rollup["Private_Clean"], rollup["Private_Dirty"],
            AnonWritableBytes(pid));
    }

    /// <summary>Bytes of private writable mappings without a file (rw-p, no path, or [heap]/[stack]) in /proc/PID/maps.</summary>
    private static long AnonWritableBytes(int pid)
    {
        long total = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
        {
            // start-end perms offset dev inode [path]
            var f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5 || !f[1].StartsWith("rw", StringComparison.Ordinal) || f[1][3] != 'p') continue;
            string path = f.Length == 6 ? f[5].Trim() : "";
            if (path.Length > 0 && path[0] != '[') continue;
            int dash = f[0].IndexOf('-', StringComparison.Ordinal);
            total += (long)(ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                - ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return total;
    }

    /// <summary>
    /// Open fds of a process (entries of /proc/PID/fd) but the runtime's assembly files: the runtime opens an assembly
    /// the first time code needs it and keeps it open, so a path first taken late in a run (a facade such as
    /// System.Runtime.Intrinsics.dll, seen at 100,000 mappings) would read as a leak of the host's own descriptors.
    /// </summary>
    public static int CountFds(int pid) => Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
        .Count(fd => new FileInfo(fd).LinkTarget is not { } target || !target.EndsWith(".dll", StringComparison.Ordinal));

    /// <summary>Memory areas (VMAs) of a process: lines of /proc/PID/maps.</summary>
    public static int CountMaps(int pid) => File.ReadLines($"/proc/{pid}/maps").Count();

    /// <summary>"Name:   123 kB" lines as bytes; lines without a kB unit (Threads) as plain numbers.</summary>
    private static Dictionary<string, long> ReadKiB(string path)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            var parts = line[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long v)) continue;
            values[line[..colon]] = parts.Length > 1 && parts[1] == "kB" ? v * 1024 : v;
        }
        return values;
    }
}
