using Umem.Platform;

namespace Umem.Client.Sync;

/// <summary>
/// A doorbell between processes that map the same page: one side <see cref="Ring"/>s, the other
/// <see cref="Wait(uint, CancellationToken)"/>s for the ring. The layout in shared memory is two 32-bit words,
/// a sequence number (the futex word, incremented by every ring) and a count of sleeping waiters; both sides
/// need write access to both.
/// <para>
/// A waiter first spins for <see cref="SpinCount"/> pauses (a peer that answers within a few microseconds is
/// seen without any system call), then sleeps in FUTEX_WAIT on the sequence word. A ring makes a FUTEX_WAKE
/// system call only when the waiters word says someone sleeps.
/// </para>
/// The memory must stay mapped for as long as this object is used; the object itself owns nothing.
/// </summary>
public sealed unsafe class SharedDoorbell
{
    /// <summary>Bytes a doorbell occupies: the sequence word, then the waiters word.</summary>
    public const int Size = 8;

    private readonly uint* _sequence;
    private readonly uint* _waiters;
    private int _spinCount = AdaptiveWait.DefaultSpinCount;
    private WaitCounters _counters;

    /// <summary>
    /// A doorbell whose sequence word is at <paramref name="address"/> and waiters word at address + 4.
    /// The address must be 4-byte aligned (futex(2) requires it); a cache line of its own avoids false sharing.
    /// </summary>
    public SharedDoorbell(nint address) : this(address, address == 0 ? 0 : address + 4)
    {
    }

    /// <summary>
    /// A doorbell over separate words. With <paramref name="waitersAddress"/> 0 there is no waiters word (for
    /// waiters that can only read the sequence word): every <see cref="Ring"/> then makes a FUTEX_WAKE call.
    /// </summary>
    public SharedDoorbell(nint sequenceAddress, nint waitersAddress)
    {
        _sequence = (uint*)CheckWord(sequenceAddress, nameof(sequenceAddress));
        _waiters = waitersAddress == 0 ? null : (uint*)CheckWord(waitersAddress, nameof(waitersAddress));
    }

    /// <summary>The default <see cref="SpinCount"/>: about 10 µs of pauses (measured at start-up), 0 on a single CPU.</summary>
    public static int DefaultSpinCount => AdaptiveWait.DefaultSpinCount;

    /// <summary>The current sequence number.</summary>
    public uint Sequence => Volatile.Read(ref *_sequence);

    /// <summary>How many waiters are asleep in FUTEX_WAIT now (0 when the doorbell has no waiters word).</summary>
    public uint Sleepers => _waiters == null ? 0 : Volatile.Read(ref *_waiters);

    /// <summary>Pauses (one PAUSE instruction each) a wait spends looking before it sleeps; 0 sleeps at once.</summary>
    public int SpinCount
    {
        get => _spinCount;
        set => _spinCount = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "SpinCount must be zero or positive");
    }

    /// <summary>Waits by this object that found the ring while spinning (no system call).</summary>
    public long WaitsSatisfiedBySpinning => _counters.SatisfiedWhileSpinning;

    /// <summary>FUTEX_WAIT calls made by waits on this object.</summary>
    public long Sleeps => _counters.Sleeps;

    /// <summary>FUTEX_WAKE calls made by rings on this object (rings that found nobody asleep make none).</summary>
    public long Wakes => _counters.Wakes;

    /// <summary>Spins the next wait may spend: at most <see cref="SpinCount"/>, less after waits that slept.</summary>
    internal int SpinBudget => _counters.SpinBudget is > 0 and var b ? Math.Min(b, _spinCount) : _spinCount;

    /// <summary>Sets both words to zero. Only while nobody else uses the doorbell (when creating it).</summary>
    public void Initialize()
    {
        Volatile.Write(ref *_sequence, 0u);
        if (_waiters != null)
            Volatile.Write(ref *_waiters, 0u);
    }

    /// <summary>Increments the sequence number and wakes every sleeping waiter; returns the new number.</summary>
    public uint Ring()
    {
        // The interlocked increment is a full fence: the new number is visible before the waiters word is read
        // (the waiter does the mirror image), so a waiter that is about to sleep either sees the new number or
        // is counted here.
        uint sequence = Interlocked.Increment(ref *_sequence);
        if (_waiters == null || Volatile.Read(ref *_waiters) != 0)
        {
            _counters.Wakes++;
            Futex.Wake(_sequence, int.MaxValue);
        }
        return sequence;
    }

    /// <summary>Waits until the sequence number differs from <paramref name="lastSeen"/> and returns it.</summary>
    public uint Wait(uint lastSeen, CancellationToken cancellationToken = default)
    {
        var changed = new SequenceChanged(_sequence, lastSeen);
        AdaptiveWait.Wait(ref changed, _sequence, _waiters, _spinCount, Timeout.InfiniteTimeSpan, cancellationToken, ref _counters);
        return changed.Current;
    }

    /// <summary>
    /// Waits at most <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: no limit) until the
    /// sequence number differs from <paramref name="lastSeen"/>; false on timeout.
    /// </summary>
    public bool TryWait(uint lastSeen, TimeSpan timeout, out uint current, CancellationToken cancellationToken = default)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "timeout must be zero, positive or Timeout.InfiniteTimeSpan");
        var changed = new SequenceChanged(_sequence, lastSeen);
        bool rang = AdaptiveWait.Wait(ref changed, _sequence, _waiters, _spinCount, timeout, cancellationToken, ref _counters);
        current = changed.Current;
        return rang;
    }

    private static nint CheckWord(nint address, string name)
    {
        if (address == 0)
            throw new ArgumentException("the doorbell address is null", name);
        if ((address & 3) != 0)
            throw new ArgumentException($"the doorbell word at 0x{address:x} is not 4-byte aligned (futex(2) fails with EINVAL)", name);
        return address;
    }

    private struct SequenceChanged(uint* sequence, uint lastSeen) : IWaitCondition
    {
        internal uint Current;

        public bool IsSatisfied(out uint futexValue)
        {
            futexValue = Current = Volatile.Read(ref *sequence);
            return futexValue != lastSeen;
        }
    }
}
