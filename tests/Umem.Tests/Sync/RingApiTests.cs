using System.Runtime.InteropServices;
using Umem.Client.Sync;
using Umem.Platform;

namespace Umem.Tests.Sync;

/// <summary>The ring's contract in one process: bad input, the read-only mapping, waiting, cancellation, completion.</summary>
public sealed class RingApiTests
{
    private const int Capacity = 4096;

    [Fact]
    public void BadLayoutsAreRefusedByName()
    {
        using var memory = new SealedSharedMemory(SharedRing.RingLength(Capacity) + 64);
        nint a = memory.Address;
        long length = SharedRing.RingLength(Capacity);
        Assert.Contains("power of two", Assert.Throws<ArgumentOutOfRangeException>(() => SharedRingWriter.Create(a, length, 3000)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRingWriter.Create(a, length, 32));
        Assert.Contains("needs", Assert.Throws<ArgumentException>(() => SharedRingWriter.Create(a, length - 1, Capacity)).Message, StringComparison.Ordinal);
        Assert.Contains("aligned", Assert.Throws<ArgumentException>(() => SharedRingWriter.Create(a + 4, length, Capacity)).Message, StringComparison.Ordinal);
        Assert.Contains("null", Assert.Throws<ArgumentException>(() => SharedRingWriter.Create(0, length, Capacity)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRing.ControlLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRing.ControlLength(SharedRing.MaxReaderSlots + 1));

        // Nothing there yet: a reader says so instead of reading garbage.
        Assert.Contains("no shared ring", Assert.Throws<InvalidDataException>(() => SharedRingReader.Open(a, length)).Message, StringComparison.Ordinal);

        using var writer = SharedRingWriter.Create(a, length, Capacity);
        Assert.Contains("needs", Assert.Throws<InvalidDataException>(() => SharedRingReader.Open(a, length - 1)).Message, StringComparison.Ordinal);
        Marshal.WriteInt64(a + RingLayout.CapacityOffset, 5000);   // a corrupted header
        Assert.Contains("capacity of 5000", Assert.Throws<InvalidDataException>(() => SharedRingReader.Open(a, length)).Message, StringComparison.Ordinal);
        Marshal.WriteInt64(a + RingLayout.CapacityOffset, Capacity);
        Assert.Contains("no shared ring control", Assert.Throws<InvalidDataException>(
            () => SharedRingReader.Open(a, length, a + 4096 - 256, 256)).Message, StringComparison.Ordinal);

        using var reader = SharedRingReader.Open(a, length);
        Assert.Contains("does not fit", Assert.Throws<ArgumentException>(() => writer.Write(new byte[Capacity + 1], TestContext.Current.CancellationToken)).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => reader.TryRead([], out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClaimInProgressMakesTheReaderReportAnOverrun()
    {
        // The writer claims space (the reserved cursor) before it overwrites old bytes and commits. A reader that
        // copied bytes the claim covers must not return them: the writer may have been writing them meanwhile.
        using var memory = new SealedSharedMemory(SharedRing.RingLength(Capacity));
        using var writer = SharedRingWriter.Create(memory.Address, memory.Length, Capacity);
        using var reader = SharedRingReader.Open(memory.Address, memory.Length);
        var data = new byte[Capacity];
        TestPattern.Fill(data, 0);
        writer.Write(data, TestContext.Current.CancellationToken);   // committed = capacity: everything readable
        nint reserved = memory.Address + RingLayout.ReservedOffset;
        Marshal.WriteInt64(reserved, Capacity + 10);   // as if the next write had claimed 10 bytes and were writing them now
        var buffer = new byte[Capacity];
        var overrun = Assert.Throws<SharedRingOverrunException>(() => reader.TryRead(buffer, out _));
        Assert.Equal(0, overrun.Position);
        Assert.Equal(10, overrun.LostBytes);
        Assert.Equal(0, reader.Position);
        Marshal.WriteInt64(reserved, Capacity);   // without the claim the same read succeeds
        Assert.True(reader.TryRead(buffer, out int read));
        Assert.Equal(Capacity, read);
    }

    [Fact]
    public async Task AReaderOnAReadOnlyMappingSleepsAndIsWoken()
    {
        using var memory = new SealedSharedMemory(SharedRing.RingLength(Capacity));
        using var writer = SharedRingWriter.Create(memory.Address, memory.Length, Capacity);
        using var readOnlyFd = MemFd.ReopenReadOnly(memory.Fd);
        using var readOnly = MappedRegion.MapShared(readOnlyFd, 0, memory.Length, Interop.PROT_READ);
        using var reader = SharedRingReader.Open(readOnly.Address, memory.Length);
        reader.SpinCount = 0;
        var buffer = new byte[100];
        var read = Task.Run(() => reader.Read(buffer, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => reader.Sleeps > 0, SyncPeerProcess.Guard));
        writer.Write([1, 2, 3], TestContext.Current.CancellationToken);
        Assert.Equal(3, await read.WaitAsync(SyncPeerProcess.Guard, TestContext.Current.CancellationToken));
        Assert.Equal([1, 2, 3], buffer[..3]);
        Assert.True(writer.Wakes > 0);   // no control region: every write wakes
    }

    [Fact]
    public void AReadOnlyReaderOfACountingWriterCannotWait()
    {
        using var ring = new SealedSharedMemory(SharedRing.RingLength(Capacity));
        using var control = new SealedSharedMemory(SharedRing.ControlLength(1));
        using var writer = SharedRingWriter.Create(ring.Address, ring.Length, Capacity, control.Address, control.Length);
        using var reader = SharedRingReader.Open(ring.Address, ring.Length);
        var buffer = new byte[10];
        Assert.False(reader.TryRead(buffer, out _));
        Assert.Contains("control region", Assert.Throws<InvalidOperationException>(() => reader.Read(buffer, TestContext.Current.CancellationToken)).Message, StringComparison.Ordinal);
        writer.Write([9], TestContext.Current.CancellationToken);
        Assert.True(reader.TryRead(buffer, out int read));
        Assert.Equal(1, read);
        Assert.Equal(0L, writer.Wakes);   // nobody counted as asleep: no system call
    }

    [Fact]
    public async Task WaitsTimeOutAndCancel()
    {
        using var ring = new SealedSharedMemory(SharedRing.RingLength(Capacity));
        using var control = new SealedSharedMemory(SharedRing.ControlLength(1));
        using var writer = SharedRingWriter.Create(ring.Address, ring.Length, Capacity, control.Address, control.Length);
        using var reader = SharedRingReader.Open(ring.Address, ring.Length, control.Address, control.Length);
        var buffer = new byte[Capacity];
        Assert.False(reader.TryRead(buffer, TimeSpan.FromMilliseconds(20), out int read, TestContext.Current.CancellationToken));
        Assert.Equal(0, read);

        using var cts = new CancellationTokenSource();
        var waiting = Task.Run(() => reader.Read(buffer, cts.Token), TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => Marshal.ReadInt32(control.Address + RingLayout.ReaderWaitersOffset) == 1, SyncPeerProcess.Guard));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(SyncPeerProcess.Guard, TestContext.Current.CancellationToken));
        Assert.Equal(0, Marshal.ReadInt32(control.Address + RingLayout.ReaderWaitersOffset));

        // The writer waits for the flow-controlled reader: fill the ring, then a write times out, then completes.
        writer.Write(new byte[Capacity], TestContext.Current.CancellationToken);
        Assert.False(writer.TryWrite([1], TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken));
        Assert.False(writer.WaitUntilRead(TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.Equal(Capacity, reader.Read(buffer, TestContext.Current.CancellationToken));
        Assert.True(writer.WaitUntilRead(TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.True(writer.TryWrite([1], TimeSpan.Zero, TestContext.Current.CancellationToken));

        // Completion wakes a sleeping reader, which reads what is left and then the end of the stream.
        var rest = Task.Run(() => (reader.Read(buffer, TestContext.Current.CancellationToken), reader.Read(buffer, TestContext.Current.CancellationToken)), TestContext.Current.CancellationToken);
        writer.Complete();
        Assert.Equal((1, 0), await rest.WaitAsync(SyncPeerProcess.Guard, TestContext.Current.CancellationToken));
    }
}
