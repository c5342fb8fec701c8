using System.Globalization;
using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// The two per-process limits every memfd of driver memory counts against: one open fd each (RLIMIT_NOFILE) and
/// one mapping each in the host (vm.max_map_count; adjacent mappings of different memfds never merge). The
/// allocator knows exactly how many it holds itself; it cannot know what else the process holds, so its own
/// defaults take half of each and leave the rest to the host's sockets, registered buffers, cache and runtime
/// (a runtime out of fds or mappings fails in places no errno reaches: loading code, committing heap).
/// </summary>
internal static class ProcessLimits
{
    /// <summary>vm.max_map_count's value since Linux 2.6 and on this machine, used when the file cannot be read.</summary>
    private const int DefaultMaxMapCount = 65530;

    /// <summary>Half the hard RLIMIT_NOFILE (the runtime and the host raise the soft limit to it).</summary>
    internal static int DefaultMaxFds { get; } = (int)Math.Min(int.MaxValue, HardFileLimit() / 2);

    /// <summary>Half of vm.max_map_count.</summary>
    internal static int DefaultMaxMappings { get; } = ReadMaxMapCount() / 2;

    /// <summary>The soft RLIMIT_NOFILE now: what memfd_create is held to (read on the refusal path only).</summary>
    internal static ulong SoftFileLimit() =>
        ProcessHardening.TryGetFileLimit(out ulong soft, out _) ? soft : ulong.MaxValue;

    private static ulong HardFileLimit() =>
        ProcessHardening.TryGetFileLimit(out _, out ulong hard) ? hard : 1024;

    private static int ReadMaxMapCount()
    {
        try
        {
            return int.TryParse(File.ReadAllText("/proc/sys/vm/max_map_count").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
                ? n
                : DefaultMaxMapCount;
        }
        catch (IOException)
        {
            return DefaultMaxMapCount;
        }
        catch (UnauthorizedAccessException)
        {
            return DefaultMaxMapCount;
        }
    }
}
