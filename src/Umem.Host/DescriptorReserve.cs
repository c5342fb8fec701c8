using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// The host's descriptor headroom under its soft RLIMIT_NOFILE, with a reserve kept for the listener, the host's own
/// work (identifying peers, the allocator's memfds, the runtime) and root clients: work of another uid that would eat
/// into the reserve is refused before the OS is asked, so one user's flood can never leave the host unable to accept,
/// log or serve an administrator (issue 12: the host once aborted out of fds).
/// </summary>
/// <remarks>
/// What the host holds for clients (connection sockets, the descriptors of replies in flight) is counted exactly as
/// it is taken and given back. Everything else (the runtime, listeners, the allocator's memfds, which it bounds by
/// its own budget) changes slowly and is sampled from /proc/self/fd: at start, at most once a second while there is
/// room, and every <see cref="ResampleAfterMs"/> when a check comes within twice the reserve of the limit.
/// </remarks>
internal sealed class DescriptorReserve
{
    private const long ResampleAfterMs = 100;
    private const long StaleAfterMs = 1000;
    private readonly Lock _gate = new();
    private readonly long _limit;
    private long _held;
    private long _other;
    private long _sampledAt;

    /// <summary>A reserve of <paramref name="reserve"/> descriptors (0: 5 % of the soft limit, at least 64).</summary>
    internal DescriptorReserve(int reserve)
    {
        _limit = ProcessHardening.TryGetFileLimit(out ulong soft, out _) ? (long)Math.Min(soft, int.MaxValue) : 1024;
        Reserve = reserve > 0 ? reserve : (int)Math.Max(64, _limit / 20);
        Sample();
    }

    /// <summary>Descriptors kept free for root and the host itself.</summary>
    internal int Reserve { get; }

    /// <summary>The soft RLIMIT_NOFILE when the host started.</summary>
    internal long Limit => _limit;

    /// <summary>Descriptors the host holds for clients now (sockets, replies in flight).</summary>
    internal long Held => Interlocked.Read(ref _held);

    /// <summary>
    /// Takes <paramref name="count"/> descriptors for <paramref name="uid"/>'s work; false (nothing taken, with the
    /// reason) when that would leave fewer than the reserve free. Root is never refused.
    /// </summary>
    internal bool TryTake(uint uid, int count, out string? limit)
    {
        limit = null;
        lock (_gate)
        {
            if (uid != 0 && !HasRoom(count))
            {
                limit = $"descriptors kept in reserve ({_held + _other} of {_limit} in use)";
                return false;
            }
            _held += count;
            return true;
        }
    }

    /// <summary>Counts descriptors already taken (a reply's copies kept for a slow reader).</summary>
    internal void Add(int count) => Interlocked.Add(ref _held, count);

    /// <summary>Gives back what <see cref="TryTake"/> or <see cref="Add"/> counted.</summary>
    internal void Return(int count)
    {
        if (count != 0) Interlocked.Add(ref _held, -count);
    }

    private bool HasRoom(long count)
    {
        long free = _limit - Interlocked.Read(ref _held) - _other - count;
        long age = Environment.TickCount64 - _sampledAt;
        // Far from the limit a sample up to a second old will do (the drivers' memfds grow meanwhile); near it, 100 ms.
        if (free >= 2L * Reserve && age < StaleAfterMs) return true;
        if (age >= ResampleAfterMs)
        {
            Sample();
            free = _limit - Interlocked.Read(ref _held) - _other - count;
        }
        return free >= Reserve;
    }

    /// <summary>Everything open that the host does not count itself (the directory's own descriptor included).</summary>
    private void Sample()
    {
        _sampledAt = Environment.TickCount64;
        try
        {
            long open = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
            _other = Math.Max(0, open - Interlocked.Read(ref _held));
        }
        catch (IOException)
        {
            // Out of descriptors even to read the directory: keep the last sample; the check refuses meanwhile.
        }
    }
}
