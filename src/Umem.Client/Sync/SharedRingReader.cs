using Umem.Platform;
using static Umem.Client.Sync.RingLayout;

namespace Umem.Client.Sync;

/// <summary>
/// A reader of a <see cref="SharedRing"/>. It only ever loads from the ring region, so a read-only mapping
/// (PROT_READ) is enough. It starts at the newest byte and reads the stream in order; a broadcast reader that
/// falls more than a capacity behind gets <see cref="SharedRingOverrunException"/> (and stays put until
/// <see cref="SkipToLatest"/>); a flow-controlled reader (one holding a slot in the control region) is waited
/// for by the writer and never overruns. Not thread-safe. The memory must stay mapped while this is used.
/// </summary>
public sealed unsafe class SharedRingReader : IDisposable
{
    private readonly byte* _header;
    private readonly byte* _data;
    private readonly byte* _control;
    private readonly byte* _slot;
    private readonly int _slotIndex;
    private readonly int _capacity;
    private readonly bool _canSleep;
    private long _position;
    private int _spinCount = AdaptiveWait.DefaultSpinCount;
    private WaitCounters _counters;
    private bool _disposed;

    private SharedRingReader(byte* header, int capacity, byte* control, int slotIndex, bool canSleep)
    {
        _header = header;
        _data = header + SharedRing.HeaderSize;
        _capacity = capacity;
        _control = control;
        _slotIndex = slotIndex;
        _slot = slotIndex < 0 ? null : control + SlotsOffset + ((long)slotIndex * SlotSize);
        _canSleep = canSleep;
        _position = slotIndex < 0 ? Volatile.Read(ref Long(header, CommittedOffset)) : Join();
    }

    /// <summary>
    /// A broadcast reader over the ring region alone (read access suffices). It can wait for data only when
    /// the writer has no control region (the writer then wakes on every write); otherwise use
    /// <see cref="TryRead(Span{byte}, out int)"/> or open it with the control region.
    /// </summary>
    public static SharedRingReader Open(nint ring, long ringLength)
    {
        int capacity = CheckRing(ring, ringLength, out uint flags);
        return new SharedRingReader((byte*)ring, capacity, null, -1, (flags & FlagCountsWaiters) == 0);
    }

    /// <summary>
    /// A reader that uses the ring's control region (read-write): it is counted while it sleeps, and with
    /// <paramref name="flowControlled"/> it takes a reader slot, so the writer waits for it. Throws
    /// <see cref="InvalidOperationException"/> when every slot is taken.
    /// </summary>
    public static SharedRingReader Open(nint ring, long ringLength, nint control, long controlLength, bool flowControlled = true)
    {
        int capacity = CheckRing(ring, ringLength, out _);
        CheckRegion(control, controlLength, SlotsOffset, nameof(control));
        byte* c = (byte*)control;
        if (Volatile.Read(ref Word(c, MagicOffset)) != ControlMagic || Word(c, VersionOffset) != LayoutVersion)
            throw new InvalidDataException(
                $"no shared ring control region at 0x{control:x}: magic 0x{Word(c, MagicOffset):x8} version {Word(c, VersionOffset)} (expected 0x{ControlMagic:x8} version {LayoutVersion})");
        uint slots = Word(c, SlotCountOffset);
        if (slots > SharedRing.MaxReaderSlots || SharedRing.ControlLength((int)slots) > controlLength)
            throw new InvalidDataException(
                $"the control region at 0x{control:x} claims {slots} reader slots, which do not fit its {controlLength} bytes");
        int slot = -1;
        if (flowControlled)
        {
            for (int i = 0; i < (int)slots && slot < 0; i++)
            {
                ref uint state = ref Word(c + SlotsOffset + ((long)i * SlotSize), SlotStateOffset);
                if (Interlocked.CompareExchange(ref state, SlotJoining, SlotFree) == SlotFree)
                    slot = i;
            }
            if (slot < 0)
                throw new InvalidOperationException($"all {slots} reader slots of the ring's control region are taken");
        }
        return new SharedRingReader((byte*)ring, capacity, c, slot, canSleep: true);
    }

    /// <summary>Data bytes in the ring.</summary>
    public int Capacity => _capacity;

    /// <summary>The position of the next byte this reader reads (bytes since the ring was created).</summary>
    public long Position => _position;

    /// <summary>Bytes published but not yet read by this reader (more than <see cref="Capacity"/>: overrun).</summary>
    public long Available => Volatile.Read(ref Long(_header, CommittedOffset)) - _position;

    /// <summary>The reader slot this reader holds, or -1 for a broadcast reader.</summary>
    public int Slot => _slotIndex;

    /// <summary>True when the writer waits for this reader.</summary>
    public bool IsFlowControlled => _slot != null;

    /// <summary>Pauses spent looking for data before sleeping (default <see cref="SharedDoorbell.DefaultSpinCount"/>).</summary>
    public int SpinCount
    {
        get => _spinCount;
        set => _spinCount = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "SpinCount must be zero or positive");
    }

    /// <summary>Waits that found data while spinning (no system call).</summary>
    public long WaitsSatisfiedBySpinning => _counters.SatisfiedWhileSpinning;

    /// <summary>FUTEX_WAIT calls made waiting for data.</summary>
    public long Sleeps => _counters.Sleeps;

    /// <summary>FUTEX_WAKE calls made to wake a writer waiting for this reader.</summary>
    public long Wakes => _counters.Wakes;

    /// <summary>
    /// Reads at least one byte, waiting for the writer if none is there; returns how many (at most
    /// <paramref name="destination"/>'s length), or 0 once the writer completed the stream and all is read.
    /// </summary>
    public int Read(Span<byte> destination, CancellationToken cancellationToken = default)
    {
        TryRead(destination, Timeout.InfiniteTimeSpan, out int read, cancellationToken);
        return read;
    }

    /// <summary>
    /// Reads what is there without waiting: true with the count read (0 at the end of the stream), false when
    /// no byte is there yet.
    /// </summary>
    public bool TryRead(Span<byte> destination, out int bytesRead)
    {
        bytesRead = ReadCore(destination);
        if (bytesRead >= 0)
            return true;
        bytesRead = 0;
        return false;
    }

    /// <summary>As <see cref="Read"/>, waiting at most <paramref name="timeout"/>; false on timeout.</summary>
    public bool TryRead(Span<byte> destination, TimeSpan timeout, out int bytesRead, CancellationToken cancellationToken = default)
    {
        CheckTimeout(timeout);
        while (true)
        {
            bytesRead = ReadCore(destination);
            if (bytesRead >= 0)
                return true;
            bytesRead = 0;
            if (timeout == TimeSpan.Zero)
                return false;
            if (!_canSleep)
                throw new InvalidOperationException(
                    "this ring's writer wakes only readers counted in its control region: open the reader with the control region to wait, or poll with TryRead(destination, out bytesRead)");
            var arrived = new DataArrived(_header, _position);
            uint* control = _control == null ? null : (uint*)(_control + ReaderWaitersOffset);
            if (!AdaptiveWait.Wait(ref arrived, (uint*)(_header + SignalOffset), control, _spinCount, timeout, cancellationToken, ref _counters))
                return false;
            // The data arrived (or the stream ended); the loop reads it. Spurious: wait again with the full
            // timeout (the writer published, so this cannot repeat without progress).
        }
    }

    /// <summary>
    /// Moves past everything published so far (after an overrun, to resume with the newest bytes); returns how
    /// many bytes were skipped.
    /// </summary>
    public long SkipToLatest()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long committed = Volatile.Read(ref Long(_header, CommittedOffset));
        long skipped = committed - _position;
        _position = committed;
        Publish();
        return skipped;
    }

    /// <summary>Gives the reader slot back, so the writer no longer waits for this reader.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_slot != null)
        {
            Interlocked.Exchange(ref Word(_slot, SlotStateOffset), SlotFree);
            WakeWriterIfWaiting();
        }
    }

    /// <summary>-1: nothing to read yet; 0: end of stream; otherwise bytes read.</summary>
    private int ReadCore(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.IsEmpty)
            throw new ArgumentException("the destination is empty", nameof(destination));

        long committed = Volatile.Read(ref Long(_header, CommittedOffset));
        long available = committed - _position;
        if (available == 0)
        {
            // Completed is set after the last commit, so once it is seen the committed cursor is final.
            if (Volatile.Read(ref Word(_header, CompletedOffset)) == 0)
                return -1;
            committed = Volatile.Read(ref Long(_header, CommittedOffset));
            available = committed - _position;
            if (available == 0)
                return 0;
        }
        if (available < 0)
            throw new InvalidDataException($"the ring's write cursor ({committed}) is behind this reader ({_position}): the ring was re-created or corrupted");
        if (available > _capacity)
            throw Overrun(committed - _capacity);

        int count = (int)Math.Min(available, destination.Length);
        var (offset, first, second) = RingMath.Split(_position, count, _capacity);
        new ReadOnlySpan<byte>(_data + offset, first).CopyTo(destination);
        if (second > 0)
            new ReadOnlySpan<byte>(_data, second).CopyTo(destination[first..]);

        // The copy's loads complete before the claim is read: if the writer had claimed any of the copied bytes
        // for new data (and so may have been writing them while we copied), this sees that claim.
        Volatile.ReadBarrier();
        long reserved = Volatile.Read(ref Long(_header, ReservedOffset));
        if (RingMath.IsOverwritten(reserved, _position, _capacity))
            throw Overrun(reserved - _capacity);

        _position += count;
        Publish();
        return count;
    }

    private SharedRingOverrunException Overrun(long oldestIntact) =>
        new(_position, oldestIntact - _position,
            $"the ring's writer overwrote bytes this reader had not read: it is at {_position}, the oldest intact byte is at or after {oldestIntact} ({oldestIntact - _position} bytes lost); call SkipToLatest to resume");

    /// <summary>Joins flow control: publish a start position, then check no claim already passed it.</summary>
    private long Join()
    {
        while (true)
        {
            long start = Volatile.Read(ref Long(_header, CommittedOffset));
            Volatile.Write(ref Long(_slot, SlotCursorOffset), start);
            Interlocked.Exchange(ref Word(_slot, SlotStateOffset), SlotActive);   // full fence before the check
            long reserved = Volatile.Read(ref Long(_header, ReservedOffset));
            // Either the writer saw this slot before claiming (and waits for it), or its claim is seen here.
            if (!RingMath.IsOverwritten(reserved, start, _capacity))
                return start;
        }
    }

    private void Publish()
    {
        if (_slot == null)
            return;
        Volatile.Write(ref Long(_slot, SlotCursorOffset), _position);   // release: after the copy's loads
        Interlocked.MemoryBarrier();   // the cursor is visible before the writer-waiting word is read
        WakeWriterIfWaiting();
    }

    private void WakeWriterIfWaiting()
    {
        if (Volatile.Read(ref Word(_control, WriterWaitingOffset)) == 0)
            return;
        Interlocked.Increment(ref Word(_control, SpaceOffset));
        _counters.Wakes++;
        Futex.Wake((uint*)(_control + SpaceOffset), 1);
    }

    private static int CheckRing(nint ring, long ringLength, out uint flags)
    {
        CheckRegion(ring, ringLength, SharedRing.HeaderSize, nameof(ring));
        byte* h = (byte*)ring;
        uint magic = Volatile.Read(ref Word(h, MagicOffset));
        if (magic != RingMagic || Word(h, VersionOffset) != LayoutVersion)
            throw new InvalidDataException(
                $"no shared ring at 0x{ring:x}: magic 0x{magic:x8} version {Word(h, VersionOffset)} (expected 0x{RingMagic:x8} version {LayoutVersion}); has the writer created it?");
        long capacity = Long(h, CapacityOffset);
        long dataOffset = Long(h, DataOffsetOffset);
        if (capacity is < SharedRing.MinCapacity or > SharedRing.MaxCapacity || !RingMath.IsValidCapacity((int)capacity))
            throw new InvalidDataException($"the ring at 0x{ring:x} claims a capacity of {capacity} bytes, not a power of two from {SharedRing.MinCapacity} to {SharedRing.MaxCapacity}");
        if (dataOffset != SharedRing.HeaderSize)
            throw new InvalidDataException($"the ring at 0x{ring:x} puts its data at {dataOffset}, not {SharedRing.HeaderSize}");
        if (SharedRing.HeaderSize + capacity > ringLength)
            throw new InvalidDataException($"the ring at 0x{ring:x} needs {SharedRing.HeaderSize + capacity} bytes; the region has {ringLength}");
        flags = Word(h, FlagsOffset);
        return (int)capacity;
    }

    /// <summary>The writer published past the reader's position, or completed the stream.</summary>
    private readonly struct DataArrived(byte* header, long position) : IWaitCondition
    {
        public bool IsSatisfied(out uint futexValue)
        {
            futexValue = Volatile.Read(ref Word(header, SignalOffset));
            return Volatile.Read(ref Long(header, CommittedOffset)) != position
                || Volatile.Read(ref Word(header, CompletedOffset)) != 0;
        }
    }
}
