using System.Globalization;
using CsCheck;
using Umem.Client.Sync;

namespace Umem.Tests.Sync;

/// <summary>
/// The ring across real processes: this test process is the writer (a read-write mapping of the ring's memfd);
/// each reader is a peer process (C# Umem.SyncPeer or C bench/native/syncpeer) that maps the ring read-only,
/// reads in random sizes and checks every byte it gets against the stream's known pattern, and reports how many
/// bytes it read, their FNV-1a hash, and any overruns.
/// </summary>
[Collection(nameof(SyncProcesses))]
public sealed class RingProcessTests
{
    private static readonly TimeSpan Guard = SyncPeerProcess.Guard;

    [Theory]
    [InlineData(PeerKind.CSharp, PeerKind.CSharp)]
    [InlineData(PeerKind.C, PeerKind.CSharp)]
    public void FlowControlledReadersSeeEveryByteOnceInOrder(PeerKind first, PeerKind second)
    {
        const int capacity = 64 << 10;
        // Write sizes: tiny, anything up to the capacity, and exactly the capacity; ~2000 writes, ~300 wraps.
        var sizes = Gen.OneOf(Gen.Int[1, 100], Gen.Int[1, capacity], Gen.Const(capacity)).Array[2000];
        Gen.Select(sizes, Gen.ULong, Gen.ULong).Sample((writes, seed1, seed2) =>
        {
            using var ring = new SealedSharedMemory(SharedRing.RingLength(capacity), "ring");
            using var control = new SealedSharedMemory(SharedRing.ControlLength(4), "ring-control");
            using var writer = SharedRingWriter.Create(ring.Address, ring.Length, capacity, control.Address, control.Length);
            using var reader1 = StartReader(first, ring, control, flow: true, seed1, maxRead: 3 * capacity / 2);
            using var reader2 = StartReader(second, ring, control, flow: true, seed2, maxRead: 4096);
            reader1.WaitForLine("ready");
            reader2.WaitForLine("ready");
            Assert.Equal(2, writer.ActiveReaders);

            var (total, fnv) = WriteAll(writer, writes);
            writer.Complete();
            foreach (var reader in new[] { reader1, reader2 })
            {
                string report = SyncPeerProcess.LastLine(reader.WaitForSuccess(), "bytes=");
                Assert.Equal(total, SyncPeerProcess.LongField(report, "bytes"));
                Assert.Equal(fnv.ToString("x16", CultureInfo.InvariantCulture), SyncPeerProcess.Field(report, "fnv"));
                Assert.Equal(0, SyncPeerProcess.LongField(report, "overruns"));
            }
            Assert.Equal(0, writer.ActiveReaders);   // both gave their slots back
        }, iter: 2, threads: 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BroadcastReadersNeverSeeTornData(bool withControl)
    {
        // A small ring and a writer that never waits: readers are overrun often, and each overrun must be
        // reported, never handed out as data (every byte a reader gets is checked against its position).
        const int capacity = 4096;
        using var ring = new SealedSharedMemory(SharedRing.RingLength(capacity), "ring");
        using var control = new SealedSharedMemory(SharedRing.ControlLength(0), "ring-control");
        using var writer = withControl
            ? SharedRingWriter.Create(ring.Address, ring.Length, capacity, control.Address, control.Length)
            : SharedRingWriter.Create(ring.Address, ring.Length, capacity);
        SealedSharedMemory? shared = withControl ? control : null;
        using var reader1 = StartReader(PeerKind.CSharp, ring, shared, flow: false, 1, maxRead: 3000);
        using var reader2 = StartReader(PeerKind.C, ring, shared, flow: false, 2, maxRead: 5000);
        reader1.WaitForLine("ready");
        reader2.WaitForLine("ready");

        var writes = Gen.Int[1, capacity].Array[16_000].Single();
        var (total, _) = WriteAll(writer, writes);
        writer.Complete();
        foreach (var reader in new[] { reader1, reader2 })
        {
            string report = SyncPeerProcess.LastLine(reader.WaitForSuccess(), "bytes=");
            // Every byte is either read (and was right) or reported lost.
            Assert.Equal(total, SyncPeerProcess.LongField(report, "bytes") + SyncPeerProcess.LongField(report, "lost"));
        }
    }

    [Fact]
    public void AStoppedBroadcastReaderIsToldItWasOverrun()
    {
        const int capacity = 4096;
        using var ring = new SealedSharedMemory(SharedRing.RingLength(capacity), "ring");
        using var writer = SharedRingWriter.Create(ring.Address, ring.Length, capacity);
        using var reader = StartReader(PeerKind.CSharp, ring, null, flow: false, 7, maxRead: 512, pauseAfter: 1000);
        reader.WaitForLine("ready");

        var pattern = new byte[capacity];
        long position = 0;
        void Write(int n)
        {
            TestPattern.Fill(pattern.AsSpan(0, n), position);
            writer.Write(pattern.AsSpan(0, n), TestContext.Current.CancellationToken);
            position += n;
        }

        Write(1000);
        Assert.Equal("paused position=1000", reader.WaitForLine("paused"));
        for (int i = 0; i < 3; i++)
            Write(capacity);   // laps the stopped reader
        reader.SendLine("go");
        Write(500);
        writer.Complete();

        string output = reader.WaitForSuccess();
        string overrun = SyncPeerProcess.LastLine(output, "overrun");
        Assert.Equal("1000", SyncPeerProcess.Field(overrun, "position"));
        Assert.True(SyncPeerProcess.LongField(overrun, "lost>") >= (3 * capacity) - capacity, overrun);
        string report = SyncPeerProcess.LastLine(output, "bytes=");
        Assert.Equal(1, SyncPeerProcess.LongField(report, "overruns"));
        Assert.Equal(position, SyncPeerProcess.LongField(report, "bytes") + SyncPeerProcess.LongField(report, "lost"));
    }

    [Fact]
    public void AStoppedFlowControlledReaderHoldsTheWriterBack()
    {
        const int capacity = 4096;
        using var ring = new SealedSharedMemory(SharedRing.RingLength(capacity), "ring");
        using var control = new SealedSharedMemory(SharedRing.ControlLength(1), "ring-control");
        using var writer = SharedRingWriter.Create(ring.Address, ring.Length, capacity, control.Address, control.Length);
        using var reader = StartReader(PeerKind.CSharp, ring, control, flow: true, 7, maxRead: 512, pauseAfter: 100);
        reader.WaitForLine("ready");

        var data = new byte[capacity];
        long position = 0;
        ulong fnv = TestPattern.FnvOffset;
        bool TryWrite(int n, TimeSpan timeout, CancellationToken cancel)
        {
            TestPattern.Fill(data.AsSpan(0, n), position);
            if (!writer.TryWrite(data.AsSpan(0, n), timeout, cancel))
                return false;
            fnv = TestPattern.Fnv(fnv, data.AsSpan(0, n));
            position += n;
            return true;
        }

        Assert.True(TryWrite(100, Guard, TestContext.Current.CancellationToken));
        reader.WaitForLine("paused");
        Assert.True(TryWrite(capacity, Guard, TestContext.Current.CancellationToken));   // exactly fills the ring
        // One more byte would overwrite what the stopped reader has not read: the writer waits, then gives up.
        Assert.False(TryWrite(1, TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken));
        Assert.True(writer.Sleeps > 0);
        reader.SendLine("go");
        // The reader's progress wakes the writer (a lost wake-up would end in the guard's cancellation).
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(Guard);
        Assert.True(TryWrite(capacity, Timeout.InfiniteTimeSpan, guard.Token));
        writer.Complete();

        string report = SyncPeerProcess.LastLine(reader.WaitForSuccess(), "bytes=");
        Assert.Equal(position, SyncPeerProcess.LongField(report, "bytes"));
        Assert.Equal(fnv.ToString("x16", CultureInfo.InvariantCulture), SyncPeerProcess.Field(report, "fnv"));
        Assert.Equal(0, SyncPeerProcess.LongField(report, "overruns"));
    }

    private static SyncPeerProcess StartReader(PeerKind kind, SealedSharedMemory ring, SealedSharedMemory? control, bool flow, ulong seed, int maxRead, long pauseAfter = -1)
    {
        List<string> args = ["ring-read", ring.ProcPath, control?.ProcPath ?? "-", flow ? "1" : "0",
            seed.ToString(CultureInfo.InvariantCulture), maxRead.ToString(CultureInfo.InvariantCulture), "-1"];
        if (pauseAfter >= 0)
            args.Add(pauseAfter.ToString(CultureInfo.InvariantCulture));
        return SyncPeerProcess.Start(kind, [.. args]);
    }

    /// <summary>Writes the stream's pattern in the given sizes; returns the byte count and FNV-1a hash.</summary>
    private static (long Total, ulong Fnv) WriteAll(SharedRingWriter writer, int[] sizes)
    {
        var buffer = new byte[writer.Capacity];
        ulong fnv = TestPattern.FnvOffset;
        foreach (int n in sizes)
        {
            var chunk = buffer.AsSpan(0, n);
            TestPattern.Fill(chunk, writer.Position);
            Assert.True(writer.TryWrite(chunk, Guard, TestContext.Current.CancellationToken), $"no room within {Guard} at {writer.Position}");
            fnv = TestPattern.Fnv(fnv, chunk);
        }
        return (writer.Position, fnv);
    }
}
