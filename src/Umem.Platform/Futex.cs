namespace Umem.Platform;

/// <summary>
/// FUTEX_WAIT and FUTEX_WAKE on a 32-bit word in shared memory (never FUTEX_PRIVATE_FLAG: the word is mapped
/// by other processes). Errors that only mean "look again" come back as a <see cref="FutexWaitResult"/>;
/// anything else (EFAULT, EINVAL) is a bug or a bad address and throws, naming the call.
/// </summary>
internal static unsafe class Futex
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>Sleeps while <c>*word == expected</c>, for at most <paramref name="timeoutNanoseconds"/> (negative: no limit).</summary>
    internal static FutexWaitResult Wait(uint* word, uint expected, long timeoutNanoseconds)
    {
        Interop.timespec ts;
        Interop.timespec* timeout = null;
        if (timeoutNanoseconds >= 0)
        {
            ts.tv_sec = timeoutNanoseconds / NanosecondsPerSecond;
            ts.tv_nsec = timeoutNanoseconds % NanosecondsPerSecond;
            timeout = &ts;
        }

        if (Interop.futex(word, Interop.FUTEX_WAIT, expected, timeout) == 0)
            return FutexWaitResult.Woken;
        Errno errno = Interop.LastErrno;
        return errno switch
        {
            Errno.EAGAIN => FutexWaitResult.ValueChanged,
            Errno.ETIMEDOUT => FutexWaitResult.TimedOut,
            Errno.EINTR => FutexWaitResult.Interrupted,
            _ => throw new ErrnoException(errno,
                $"futex(0x{(nint)word:x}, FUTEX_WAIT, {expected}, timeout={(timeoutNanoseconds < 0 ? "NULL" : $"{timeoutNanoseconds} ns")})"),
        };
    }

    /// <summary>Wakes up to <paramref name="count"/> waiters on <paramref name="word"/>; returns how many woke.</summary>
    internal static int Wake(uint* word, int count)
    {
        long woken = Interop.futex(word, Interop.FUTEX_WAKE, (uint)count, null);
        return woken >= 0
            ? (int)woken
            : throw new ErrnoException(Interop.LastErrno, $"futex(0x{(nint)word:x}, FUTEX_WAKE, {count})");
    }
}

/// <summary>How a FUTEX_WAIT returned; every case means "check the condition again".</summary>
internal enum FutexWaitResult
{
    /// <summary>A FUTEX_WAKE (or a spurious wake-up).</summary>
    Woken,

    /// <summary>EAGAIN: the word no longer held the expected value when the kernel looked.</summary>
    ValueChanged,

    /// <summary>ETIMEDOUT.</summary>
    TimedOut,

    /// <summary>EINTR: a signal handler ran.</summary>
    Interrupted,
}
