using System.Diagnostics;
using Umem.Platform;
using static Umem.Client.Sync.RingLayout;

namespace Umem.Client.Sync;

/// <summary>
/// The one writer of a <see cref="SharedRing"/>. A write is published whole (readers see all of it or none).
/// Broadcast readers never slow the writer down: a reader that falls a capacity behind is overrun. Readers that
/// hold a slot in the control region are waited for (flow control). Not thread-safe: one writer, one thread
/// at a time. The memory must stay mapped for as long as this object is used.
/// </summary>
public sealed unsafe class SharedRingWriter : IDisposable
{
    private readonly byte* _header;
    private readonly byte* _data;
    private readonly byte* _control;
    private readonly int _capacity;
    private readonly int _slots;
    private long _position;
    private int _spinCount = AdaptiveWait.DefaultSpinCount;
    private WaitCounters _counters;
    private bool _completed;

    private SharedRingWriter(byte* header, int capacity, byte* control, int slots, long position)
    {
        _header = header;
        _data = header + SharedRing.HeaderSize;
        _capacity = capacity;
        _control = control;
        _slots = slots;
        _position = position;
    }

    /// <summary>
    /// Lays out a ring of <paramref name="capacity"/> bytes at <paramref name="ring"/> (length at least
    /// <see cref="SharedRing.RingLength"/>) with no control region: broadcast only, every commit wakes.
    /// </summary>
    public static SharedRingWriter Create(nint ring, long ringLength, int capacity) =>
        Create(ring, ringLength, capacity, 0, 0, 0);

    /// <summary>
    /// Lays out a ring with a control region at <paramref name="control"/> (read-write for every reader; its
    /// length sets the number of reader slots, see <see cref="SharedRing.ControlLength"/>).
    /// </summary>
    public static SharedRingWriter Create(nint ring, long ringLength, int capacity, nint control, long controlLength) =>
        Create(ring, ringLength, capacity, control, controlLength, 0);

    /// <summary>As above, with the first byte at <paramref name="startPosition"/> (tests reach 2^32 this way).</summary>
    internal static SharedRingWriter Create(nint ring, long ringLength, int capacity, nint control, long controlLength, long startPosition)
    {
        SharedRing.CheckCapacity(capacity);
        CheckRegion(ring, ringLength, SharedRing.RingLength(capacity), nameof(ring));
        int slots = 0;
        if (control != 0)
        {
            CheckRegion(control, controlLength, SlotsOffset, nameof(control));
            slots = (int)Math.Min((controlLength - SlotsOffset) / SlotSize, SharedRing.MaxReaderSlots);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(startPosition);

        byte* h = (byte*)ring;
        byte* c = (byte*)control;
        if (c != null)
        {
            // The control region first: a reader that sees the ring's magic may open the control region at once.
            new Span<byte>(c, (int)SharedRing.ControlLength(slots)).Clear();
            Word(c, VersionOffset) = LayoutVersion;
            Word(c, SlotCountOffset) = (uint)slots;
            Volatile.Write(ref Word(c, MagicOffset), ControlMagic);
        }
        new Span<byte>(h, SharedRing.HeaderSize).Clear();
        Word(h, VersionOffset) = LayoutVersion;
        Long(h, CapacityOffset) = capacity;
        Long(h, DataOffsetOffset) = SharedRing.HeaderSize;
        Word(h, FlagsOffset) = c != null ? FlagCountsWaiters : 0;
        Long(h, ReservedOffset) = startPosition;
        Long(h, CommittedOffset) = startPosition;
        Volatile.Write(ref Word(h, MagicOffset), RingMagic);   // last: the header is complete once this is seen
        return new SharedRingWriter(h, capacity, c, slots, startPosition);
    }

    /// <summary>Data bytes in the ring.</summary>
    public int Capacity => _capacity;

    /// <summary>Bytes written since the ring was created.</summary>
    public long Position => _position;

    /// <summary>Reader slots in the control region (0 without one).</summary>
    public int ReaderSlots => _slots;

    /// <summary>Readers that hold a slot now.</summary>
    public int ActiveReaders
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _slots; i++)
                n += Volatile.Read(ref Word(Slot(i), SlotStateOffset)) == SlotActive ? 1 : 0;
            return n;
        }
    }

    /// <summary>True once <see cref="Complete"/> ran.</summary>
    public bool IsCompleted => _completed;

    /// <summary>Pauses spent looking for space before sleeping (default <see cref="SharedDoorbell.DefaultSpinCount"/>).</summary>
    public int SpinCount
    {
        get => _spinCount;
        set => _spinCount = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "SpinCount must be zero or positive");
    }

    /// <summary>FUTEX_WAIT calls made waiting for slow flow-controlled readers.</summary>
    public long Sleeps => _counters.Sleeps;

    /// <summary>FUTEX_WAKE calls made to wake sleeping readers.</summary>
    public long Wakes => _counters.Wakes;

    /// <summary>
    /// Writes <paramref name="data"/> (at most <see cref="Capacity"/> bytes) and publishes it, waiting first
    /// for flow-controlled readers to make room if needed.
    /// </summary>
    public void Write(ReadOnlySpan<byte> data, CancellationToken cancellationToken = default) =>
        WriteCore(data, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// As <see cref="Write"/>, waiting at most <paramref name="timeout"/> for room; false (nothing written) on
    /// timeout. A write that timed out after claiming its space may make broadcast readers that lag by almost a
    /// capacity report an overrun a little early.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        CheckTimeout(timeout);
        return WriteCore(data, timeout, cancellationToken);
    }

    /// <summary>
    /// Waits until every flow-controlled reader has read everything written so far (true), or
    /// <paramref name="timeout"/> passes (false).
    /// </summary>
    public bool WaitUntilRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        CheckTimeout(timeout);
        return _control == null || WaitForReaders(_position, timeout, cancellationToken);
    }

    /// <summary>
    /// Ends the stream: readers read what is left, then their reads return 0. Idempotent; no writes after it.
    /// </summary>
    public void Complete()
    {
        if (_completed)
            return;
        _completed = true;
        Volatile.Write(ref Word(_header, CompletedOffset), 1u);
        Interlocked.Increment(ref Word(_header, SignalOffset));
        Futex.Wake(&((uint*)_header)[SignalOffset / 4], int.MaxValue);
    }

    /// <summary>Completes the stream (<see cref="Complete"/>).</summary>
    public void Dispose() => Complete();

    private bool WriteCore(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_completed)
            throw new InvalidOperationException("the ring was completed; no more writes");
        if (data.Length > _capacity)
            throw new ArgumentException($"a write of {data.Length} bytes does not fit a ring of {_capacity} bytes", nameof(data));
        if (data.IsEmpty)
            return true;

        long end = _position + data.Length;
        if (_control != null)
        {
            long start = timeout == Timeout.InfiniteTimeSpan ? 0 : Stopwatch.GetTimestamp();
            if (!WaitForReaders(end - _capacity, timeout, cancellationToken))
                return false;
            // Claim the space (a full fence), then look at the slots again: a reader that joined while we
            // looked either sees this claim and starts later, or is seen here and waited for.
            Interlocked.Exchange(ref Long(_header, ReservedOffset), end);
            if (!WaitForReaders(end - _capacity, Remaining(timeout, start), cancellationToken))
                return false;
        }
        else
        {
            // Broadcast: readers check this claim after copying, so bytes below end - capacity are given up
            // before they are overwritten.
            Interlocked.Exchange(ref Long(_header, ReservedOffset), end);
        }

        var (offset, first, second) = RingMath.Split(_position, data.Length, _capacity);
        data[..first].CopyTo(new Span<byte>(_data + offset, first));
        if (second > 0)
            data[first..].CopyTo(new Span<byte>(_data, second));

        Volatile.Write(ref Long(_header, CommittedOffset), end);   // release: the bytes before the cursor
        // The signal is the futex word readers sleep on; the interlocked increment is also the full fence
        // that orders the commit before the waiters count is read.
        Interlocked.Increment(ref Word(_header, SignalOffset));
        _position = end;
        if (_control == null || Volatile.Read(ref Word(_control, ReaderWaitersOffset)) != 0)
        {
            _counters.Wakes++;
            Futex.Wake(&((uint*)_header)[SignalOffset / 4], int.MaxValue);
        }
        return true;
    }

    private bool WaitForReaders(long target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reached = new ReadersReached(_control, _slots, target);
        return AdaptiveWait.Wait(ref reached, (uint*)(_control + SpaceOffset), (uint*)(_control + WriterWaitingOffset),
            _spinCount, timeout, cancellationToken, ref _counters);
    }

    private byte* Slot(int index) => _control + SlotsOffset + ((long)index * SlotSize);

    private static TimeSpan Remaining(TimeSpan timeout, long start)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return timeout;
        TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Every active reader slot has a cursor at or past the target (joining slots are not waited for).</summary>
    private readonly struct ReadersReached(byte* control, int slots, long target) : IWaitCondition
    {
        public bool IsSatisfied(out uint futexValue)
        {
            futexValue = Volatile.Read(ref Word(control, SpaceOffset));
            byte* slot = control + SlotsOffset;
            for (int i = 0; i < slots; i++, slot += SlotSize)
            {
                if (Volatile.Read(ref Word(slot, SlotStateOffset)) == SlotActive
                    && !RingMath.HasReached(Volatile.Read(ref Long(slot, SlotCursorOffset)), target))
                    return false;
            }
            return true;
        }
    }
}
