using Umem.Client.Sync;
using Umem.Tests.Platform;

namespace Umem.Tests.Sync;

/// <summary>The C client (clients/c/umem_sync.h) and the C# types must agree on every offset of the shared layout.</summary>
public sealed class LayoutTests
{
    private static readonly (string Name, long Value)[] s_layout =
    [
        ("UMEM_DOORBELL_SIZE", SharedDoorbell.Size),
        ("UMEM_DOORBELL_SEQUENCE", 0),
        ("UMEM_DOORBELL_WAITERS", 4),
        ("UMEM_RING_MAGIC", RingLayout.RingMagic),
        ("UMEM_RING_CONTROL_MAGIC", RingLayout.ControlMagic),
        ("UMEM_RING_VERSION", RingLayout.LayoutVersion),
        ("UMEM_RING_HEADER_SIZE", SharedRing.HeaderSize),
        ("UMEM_RING_MIN_CAPACITY", SharedRing.MinCapacity),
        ("UMEM_RING_MAX_CAPACITY", SharedRing.MaxCapacity),
        ("UMEM_RING_MAX_READER_SLOTS", SharedRing.MaxReaderSlots),
        ("UMEM_RING_LENGTH(4096)", SharedRing.RingLength(4096)),
        ("UMEM_RING_CONTROL_LENGTH(3)", SharedRing.ControlLength(3)),
        ("UMEM_RING_MAGIC_OFF", RingLayout.MagicOffset),
        ("UMEM_RING_VERSION_OFF", RingLayout.VersionOffset),
        ("UMEM_RING_CAPACITY_OFF", RingLayout.CapacityOffset),
        ("UMEM_RING_DATA_OFFSET_OFF", RingLayout.DataOffsetOffset),
        ("UMEM_RING_FLAGS_OFF", RingLayout.FlagsOffset),
        ("UMEM_RING_RESERVED_OFF", RingLayout.ReservedOffset),
        ("UMEM_RING_COMMITTED_OFF", RingLayout.CommittedOffset),
        ("UMEM_RING_SIGNAL_OFF", RingLayout.SignalOffset),
        ("UMEM_RING_COMPLETED_OFF", RingLayout.CompletedOffset),
        ("UMEM_RING_FLAG_COUNTS_WAITERS", RingLayout.FlagCountsWaiters),
        ("UMEM_CTL_SLOT_COUNT_OFF", RingLayout.SlotCountOffset),
        ("UMEM_CTL_READER_WAITERS_OFF", RingLayout.ReaderWaitersOffset),
        ("UMEM_CTL_SPACE_OFF", RingLayout.SpaceOffset),
        ("UMEM_CTL_WRITER_WAITING_OFF", RingLayout.WriterWaitingOffset),
        ("UMEM_CTL_SLOTS_OFF", RingLayout.SlotsOffset),
        ("UMEM_CTL_SLOT_SIZE", RingLayout.SlotSize),
        ("UMEM_CTL_SLOT_STATE_OFF", RingLayout.SlotStateOffset),
        ("UMEM_CTL_SLOT_CURSOR_OFF", RingLayout.SlotCursorOffset),
        ("UMEM_SLOT_FREE", RingLayout.SlotFree),
        ("UMEM_SLOT_JOINING", RingLayout.SlotJoining),
        ("UMEM_SLOT_ACTIVE", RingLayout.SlotActive),
        ("umem_pattern(0x123456789)", TestPattern.At(0x123456789)),
    ];

    [Fact]
    public void TheCPeersUseTheSameLayout()
    {
        var values = CProbe.PrintLongs([SyncPaths.NativeHeader, SyncPaths.NativePatternHeader], s_layout.Select(c => c.Name).ToArray());
        foreach (var (name, value) in s_layout)
            Assert.True(values[name] == value, $"{name}: C says {values[name]}, C# says {value}");
    }
}
