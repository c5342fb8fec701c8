using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Umem.Platform;

namespace Umem.Client.Sync;

/// <summary>
/// What a waiter waits for. <see cref="IsSatisfied"/> must read the futex word first (with acquire semantics)
/// and only then the state it decides on, and hand back the value it read: if anything changes after that
/// read, the signaller changes the futex word too, so FUTEX_WAIT(expected) returns at once (EAGAIN).
/// </summary>
internal interface IWaitCondition
{
    bool IsSatisfied(out uint futexValue);
}

/// <summary>
/// Per-object wait state: statistics, and the adaptive spin budget. Plain increments, so approximate when one
/// object is shared by threads (harmless: it only steers how long to spin).
/// </summary>
internal struct WaitCounters
{
    internal long SatisfiedWhileSpinning;
    internal long Sleeps;
    internal long Wakes;

    /// <summary>Spins the next wait may spend (0: not yet set, start from the spin count).</summary>
    internal int SpinBudget;

    /// <summary>Waits that reached the spin phase (every 16th probes with the whole spin count).</summary>
    internal int SpinningWaits;
}

/// <summary>
/// Spin, then sleep on a shared futex word. The spin phase is bounded (<c>spinCount</c> pauses, one PAUSE
/// instruction each, as the C peers spin); a peer that answers within it costs no system call on either side.
/// The budget adapts within that bound: it halves after a wait that had to sleep and doubles after one that
/// spinning satisfied, so a peer that is not running (an oversubscribed machine) stops costing a whole spin
/// budget per wait. Every 16th wait probes with the whole spin count: two peers that both fell back to
/// sleeping wake each other more slowly than a reduced budget spins, and would otherwise never spin again.
/// The sleep phase announces the waiter in a shared counter before it looks at the condition one last time and
/// calls FUTEX_WAIT; a signaller changes the futex word, issues a full fence and then reads that counter, so
/// either the waiter sees the change or the signaller sees the waiter and wakes it (no lost wake-up), and a
/// signaller that finds the counter at zero makes no system call at all. Without a counter (a waiter that can
/// only read the shared memory) the signaller must wake on every change.
/// </summary>
internal static unsafe class AdaptiveWait
{
    /// <summary>Nanoseconds the spin phase covers by default: about a futex round trip between two sleeping processes.</summary>
    private const double DefaultSpinNanoseconds = 10_000;

    /// <summary>Nanoseconds a reduced budget keeps at least: enough to see a peer that is spinning itself.</summary>
    private const double MinSpinNanoseconds = 500;

    /// <summary>One pause, measured once per process (the PAUSE instruction takes 10–150 cycles by CPU model).</summary>
    internal static double PauseNanoseconds { get; } = MeasurePause();

    /// <summary>Spins that cover roughly 10 µs; 0 on a single CPU (the peer cannot run while this one spins).</summary>
    internal static int DefaultSpinCount { get; } = Environment.ProcessorCount > 1 ? SpinsFor(DefaultSpinNanoseconds) : 0;

    /// <summary>The least a reduced budget keeps (~0.5 µs, at least 8 spins).</summary>
    internal static int MinSpinBudget { get; } = Math.Max(8, SpinsFor(MinSpinNanoseconds));

    /// <summary>
    /// One spin: a single PAUSE (x86) or YIELD (arm64) between two looks, as the C peers and floors spin.
    /// Thread.SpinWait(1) is several normalized pauses (~50 ns), which a peer answering in ~50 ns pays twice per
    /// round trip.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Pause()
    {
        if (X86Base.IsSupported)
            X86Base.Pause();
        else if (ArmBase.IsSupported)
            ArmBase.Yield();
        else
            Thread.SpinWait(1);
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds. <paramref name="waiters"/> may be null (the signaller then
    /// always wakes). <paramref name="timeout"/>: <see cref="Timeout.InfiniteTimeSpan"/> for none.
    /// Returns false on timeout; throws <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    internal static bool Wait<T>(ref T condition, uint* futexWord, uint* waiters, int spinCount, TimeSpan timeout,
        CancellationToken cancellationToken, ref WaitCounters counters)
        where T : struct, IWaitCondition
    {
        if (condition.IsSatisfied(out _))
            return true;
        if (timeout == TimeSpan.Zero)
            return false;

        long start = timeout == Timeout.InfiniteTimeSpan ? 0 : Stopwatch.GetTimestamp();
        int budget = counters.SpinBudget is > 0 and var b && (++counters.SpinningWaits & 15) != 0 ? Math.Min(b, spinCount) : spinCount;
        for (int i = 1; i <= budget; i++)
        {
            Pause();
            if (condition.IsSatisfied(out _))
            {
                counters.SatisfiedWhileSpinning++;
                counters.SpinBudget = (int)Math.Min(spinCount, Math.Max(2L * budget, 2L * i));
                return true;
            }
        }
        if (spinCount > 0)
            counters.SpinBudget = Math.Min(spinCount, Math.Max(MinSpinBudget, budget / 2));
        return Sleep(ref condition, futexWord, waiters, start, timeout, cancellationToken, ref counters);
    }

    private static int SpinsFor(double nanoseconds) => (int)Math.Clamp(nanoseconds / PauseNanoseconds, 16, 1_000_000);

    /// <summary>The fastest of a few timed runs of pauses (a run the scheduler interrupted only looks slower).</summary>
    private static double MeasurePause()
    {
        const int Pauses = 512;
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < Pauses; i++)
                Pause();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / Pauses);
        }
        return Math.Max(best, 0.5);
    }

    private static bool Sleep<T>(ref T condition, uint* futexWord, uint* waiters, long start, TimeSpan timeout,
        CancellationToken cancellationToken, ref WaitCounters counters)
        where T : struct, IWaitCondition
    {
        CancellationWaker? waker = null;
        CancellationTokenRegistration registration = default;
        if (cancellationToken.CanBeCanceled)
        {
            waker = new CancellationWaker(futexWord);
            registration = cancellationToken.UnsafeRegister(static w => ((CancellationWaker)w!).WakeUntilAwake(), waker);
        }

        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long remaining = -1;
                if (timeout != Timeout.InfiniteTimeSpan)
                {
                    double left = (timeout - Stopwatch.GetElapsedTime(start)).TotalNanoseconds;
                    remaining = left >= long.MaxValue ? long.MaxValue : (long)left;   // TimeSpan.MaxValue: ~292 years
                    if (remaining <= 0)
                        return condition.IsSatisfied(out _);
                }

                if (waiters != null)
                    Interlocked.Increment(ref *waiters);   // full fence: announced before the last look
                waker?.AboutToSleep();
                try
                {
                    if (condition.IsSatisfied(out uint expected))
                        return true;
                    if (cancellationToken.IsCancellationRequested)
                        continue;   // thrown at the top of the loop
                    counters.Sleeps++;
                    Futex.Wait(futexWord, expected, remaining);
                }
                finally
                {
                    waker?.Awake();
                    if (waiters != null)
                        Interlocked.Decrement(ref *waiters);
                }
            }
        }
        finally
        {
            // Disposing waits for a running callback; it ends as soon as this thread is marked awake (above).
            registration.Dispose();
        }
    }

    /// <summary>
    /// Cancels a FUTEX_WAIT: the callback cannot know whether the waiter is already in the kernel or about to
    /// enter it, so it wakes the word until the waiter reports that it is awake. The wake-ups also reach other
    /// waiters on the same word; they look at their condition, find nothing changed and sleep again.
    /// </summary>
    private sealed class CancellationWaker
    {
        private const int AwakeState = 0;
        private const int SleepingState = 1;
        private readonly uint* _word;
        private int _state;

        internal CancellationWaker(uint* word) => _word = word;

        internal void AboutToSleep() => Interlocked.Exchange(ref _state, SleepingState);

        internal void Awake() => Volatile.Write(ref _state, AwakeState);

        internal void WakeUntilAwake()
        {
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _state) == SleepingState)
            {
                Futex.Wake(_word, int.MaxValue);
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
