using System.Globalization;
using Umem.Client.Sync;

namespace Umem.Tests.Sync;

/// <summary>
/// The C client's doorbell and ring (clients/c/umem_sync.c, in the C peer bench/native/syncpeer) against the C#
/// types over the same memfd, in both directions: messages pass through the shared page on every round trip and
/// byte streams through the ring, and both sides' checksums must agree. (C# writer to C reader: RingProcessTests.)
/// </summary>
[Collection(nameof(SyncProcesses))]
public sealed class CInteropTests
{
    private const int MessageOffset = 128;
    private const int AnswerOffset = 192;
    private static readonly TimeSpan Guard = SyncPeerProcess.Guard;

    [Theory]
    [InlineData(-1)]   // the default spin count on both sides
    [InlineData(0)]    // every wait sleeps in FUTEX_WAIT
    public unsafe void ACPingerAndACSharpEchoAgreeOnEveryMessage(int spin)
    {
        const int rounds = 20_000;
        using var pair = new DoorbellPair("doorbell-ping", spin, rounds);
        var (ping, pong, peer) = (pair.Ping, pair.Pong, pair.Peer);
        uint* message = pair.Message, answer = pair.Answer;
        ulong fnv = TestPattern.FnvOffset;
        uint last = 0;
        for (int i = 0; i < rounds; i++)
        {
            if (!ping.TryWait(last, Guard, out last, TestContext.Current.CancellationToken))
                Assert.Fail($"round {i}: no ping within {Guard}. {peer.Describe()}");
            uint m = *message;   // written before the ring; the wait's acquire read orders this after it
            Assert.Equal(unchecked((uint)i * 0x9E3779B9u), m);
            fnv = FnvWord(fnv, m);
            *answer = Answer(m);
            pong.Ring();
        }
        string report = SyncPeerProcess.LastLine(peer.WaitForSuccess(), "ns=");
        Assert.Equal(fnv.ToString("x16", CultureInfo.InvariantCulture), SyncPeerProcess.Field(report, "fnv"));
        Assert.Equal((uint)rounds, ping.Sequence);
        Assert.Equal((uint)rounds, pong.Sequence);
        if (spin == 0)
            Assert.True(ping.Sleeps > 0 && SyncPeerProcess.LongField(report, "slept") > 0, $"{ping.Sleeps} slept here; {report}");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public unsafe void ACSharpPingerAndACEchoAgreeOnEveryMessage(int spin)
    {
        const int rounds = 20_000;
        using var pair = new DoorbellPair("doorbell-echo", spin, rounds);
        var (ping, pong, peer) = (pair.Ping, pair.Pong, pair.Peer);
        uint* message = pair.Message, answer = pair.Answer;
        ulong fnv = TestPattern.FnvOffset;
        uint last = 0;
        for (int i = 0; i < rounds; i++)
        {
            uint m = unchecked((uint)(i + 1) * 2246822519u);
            *message = m;   // published by the ring's full fence
            fnv = FnvWord(fnv, m);
            ping.Ring();
            if (!pong.TryWait(last, Guard, out last, TestContext.Current.CancellationToken))
                Assert.Fail($"round {i}: no pong within {Guard}. {peer.Describe()}");
            Assert.Equal(Answer(m), *answer);
        }
        string report = SyncPeerProcess.LastLine(peer.WaitForSuccess(), "spun=");
        Assert.Equal(fnv.ToString("x16", CultureInfo.InvariantCulture), SyncPeerProcess.Field(report, "fnv"));
    }

    [Theory]
    [InlineData(64 << 10, 100)]        // small writes, many wraps
    [InlineData(64 << 10, 64 << 10)]   // writes up to the whole ring: the C writer waits for this reader
    public void ACWriterStreamsToAFlowControlledCSharpReader(int capacity, int maxWrite)
    {
        const long bytes = 8 << 20;
        using var ring = new SealedSharedMemory(SharedRing.RingLength(capacity), "ring");
        using var control = new SealedSharedMemory(SharedRing.ControlLength(2), "ring-control");
        using var writer = SyncPeerProcess.C("ring-write", ring.ProcPath, control.ProcPath, "12345", Text(maxWrite), Text(bytes));
        Assert.Equal($"ready capacity={capacity}", writer.WaitForLine("ready"));
        using var reader = SharedRingReader.Open(ring.Address, ring.Length, control.Address, control.Length);
        Assert.Equal(0, reader.Position);   // joined before the writer may start

        var random = new Random(7);
        byte[] buffer = new byte[capacity + 17];
        ulong fnv = TestPattern.FnvOffset;
        long total = 0;
        while (true)
        {
            int n = reader.TryRead(buffer.AsSpan(0, random.Next(1, buffer.Length)), Guard, out int read, TestContext.Current.CancellationToken)
                ? read
                : throw new Xunit.Sdk.XunitException($"nothing within {Guard} at {total}. {writer.Describe()}");
            if (n == 0)
                break;
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != TestPattern.At(total + i))
                    Assert.Fail($"byte {total + i}: got {buffer[i]}, expected {TestPattern.At(total + i)}");
            }
            fnv = TestPattern.Fnv(fnv, buffer.AsSpan(0, n));
            total += n;
        }
        string report = SyncPeerProcess.LastLine(writer.WaitForSuccess(), "bytes=");
        Assert.Equal(bytes, total);
        Assert.Equal(bytes, SyncPeerProcess.LongField(report, "bytes"));
        Assert.Equal(fnv.ToString("x16", CultureInfo.InvariantCulture), SyncPeerProcess.Field(report, "fnv"));
    }

    /// <summary>
    /// A page with the ping doorbell at 0, pong at 64, the message word at 128 and the answer at 192, and the C peer
    /// in a mode (doorbell-ping or doorbell-echo) on it; a spin of -1 is the default spin count on both sides.
    /// </summary>
    private sealed unsafe class DoorbellPair : IDisposable
    {
        private readonly SealedSharedMemory _memory = new(4096, "doorbell");

        public DoorbellPair(string mode, int spin, int rounds)
        {
            int mySpin = spin < 0 ? SharedDoorbell.DefaultSpinCount : 0;
            Ping = new SharedDoorbell(_memory.Address) { SpinCount = mySpin };
            Pong = new SharedDoorbell(_memory.Address + 64) { SpinCount = mySpin };
            Peer = SyncPeerProcess.C(mode, _memory.ProcPath, Text(spin), Text(rounds));
        }

        public SharedDoorbell Ping { get; }

        public SharedDoorbell Pong { get; }

        public SyncPeerProcess Peer { get; }

        public uint* Message => (uint*)(_memory.Address + MessageOffset);

        public uint* Answer => (uint*)(_memory.Address + AnswerOffset);

        public void Dispose()
        {
            Peer.Dispose();
            _memory.Dispose();
        }
    }

    /// <summary>echo_answer in bench/native/syncpeer.c.</summary>
    private static uint Answer(uint m) => unchecked((m * 2654435761u) + 1);

    private static ulong FnvWord(ulong fnv, uint word)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, word);
        return TestPattern.Fnv(fnv, bytes);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
