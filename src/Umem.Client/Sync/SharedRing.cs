namespace Umem.Client.Sync;

/// <summary>
/// The shared layout of a byte ring: one writer, any number of readers, in memory several processes map.
/// <para>
/// The <b>ring region</b> (header + data) is written only by the writer; readers need only read access, so a
/// driver can grant it read-only. Each reader keeps its cursor privately and copies bytes out; it checks after
/// copying that the writer had not yet claimed the space it copied from, so a reader that falls more than
/// <c>capacity</c> bytes behind gets a <see cref="SharedRingOverrunException"/>, never torn data.
/// </para>
/// <para>
/// The optional <b>control region</b> is read-write for everyone: it counts sleeping readers (so the writer
/// makes a FUTEX_WAKE call only when someone sleeps) and holds reader slots: a reader that takes a slot
/// publishes its cursor there and the writer waits for it before overwriting (flow control), so that reader
/// never overruns. Readers without a slot are broadcast readers. Without a control region every commit wakes
/// (one system call per write), since read-only readers cannot say that they sleep.
/// </para>
/// Offsets (little-endian, every field naturally aligned; clients/c/umem_sync.h mirrors them for C programs):
/// header: magic 0, version 4, capacity 8, data offset 16, flags 24; reserved 64 (a cache line of its own);
/// committed 128, signal 136 (the futex word), completed 140; data from 256.
/// Control: magic 0, version 4, slot count 8; reader waiters 64; space 128 (futex word), writer waiting 132;
/// slots from 192, 64 bytes each: state 0, cursor 8.
/// </summary>
public static class SharedRing
{
    /// <summary>Bytes before the data in the ring region.</summary>
    public const int HeaderSize = 256;

    /// <summary>The smallest capacity (a power of two).</summary>
    public const int MinCapacity = 64;

    /// <summary>The largest capacity.</summary>
    public const int MaxCapacity = 1 << 30;

    /// <summary>The most reader slots a control region may have.</summary>
    public const int MaxReaderSlots = 1024;

    /// <summary>The ring region's size for <paramref name="capacity"/> data bytes.</summary>
    public static long RingLength(int capacity) => HeaderSize + (long)CheckCapacity(capacity);

    /// <summary>The control region's size for <paramref name="readerSlots"/> flow-controlled readers.</summary>
    public static long ControlLength(int readerSlots) =>
        readerSlots is >= 0 and <= MaxReaderSlots
            ? RingLayout.SlotsOffset + ((long)readerSlots * RingLayout.SlotSize)
            : throw new ArgumentOutOfRangeException(nameof(readerSlots), readerSlots, $"reader slots must be 0..{MaxReaderSlots}");

    internal static int CheckCapacity(int capacity) =>
        RingMath.IsValidCapacity(capacity)
            ? capacity
            : throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"a ring's capacity must be a power of two from {MinCapacity} to {MaxCapacity} bytes");
}

/// <summary>Field offsets of <see cref="SharedRing"/>'s layout, and the values of its words.</summary>
internal static unsafe class RingLayout
{
    internal const uint RingMagic = 0x47524D55;      // "UMRG"
    internal const uint ControlMagic = 0x43524D55;   // "UMRC"
    internal const uint LayoutVersion = 1;

    internal const int MagicOffset = 0;
    internal const int VersionOffset = 4;
    internal const int CapacityOffset = 8;
    internal const int DataOffsetOffset = 16;
    internal const int FlagsOffset = 24;
    internal const int ReservedOffset = 64;
    internal const int CommittedOffset = 128;
    internal const int SignalOffset = 136;
    internal const int CompletedOffset = 140;

    /// <summary>Flag: the writer counts sleeping readers in a control region and wakes only when one sleeps.</summary>
    internal const uint FlagCountsWaiters = 1;

    internal const int SlotCountOffset = 8;
    internal const int ReaderWaitersOffset = 64;
    internal const int SpaceOffset = 128;
    internal const int WriterWaitingOffset = 132;
    internal const int SlotsOffset = 192;
    internal const int SlotSize = 64;
    internal const int SlotStateOffset = 0;
    internal const int SlotCursorOffset = 8;

    internal const uint SlotFree = 0;
    internal const uint SlotJoining = 1;
    internal const uint SlotActive = 2;

    internal static void CheckTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "timeout must be zero, positive or Timeout.InfiniteTimeSpan");
    }

    internal static void CheckRegion(nint address, long length, long needed, string name)
    {
        if (address == 0)
            throw new ArgumentException("the region's address is null", name);
        if ((address & 7) != 0)
            throw new ArgumentException($"the region at 0x{address:x} is not 8-byte aligned (64-bit cursors must be)", name);
        if (length < needed)
            throw new ArgumentException($"the region at 0x{address:x} has {length} bytes; the layout needs {needed}", name);
    }

    internal static ref uint Word(byte* region, int offset) => ref *(uint*)(region + offset);

    internal static ref long Long(byte* region, int offset) => ref *(long*)(region + offset);
}
