using System.Buffers.Binary;
using Umem.Client;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Host;

/// <summary>
/// POLL and EVENT (protocol version 3) over real sockets to a real host with MessageDriver: chpoll(9E) answers, one
/// armed poll per open gets one EVENT when pollwakeup(9F) fires, a new POLL replaces it and CLOSE drops it, and
/// both the raw protocol and <see cref="UmemDevice.Poll"/> see it.
/// </summary>
public sealed class PollTests
{
    private const ushort PollIn = 0x1, PollOut = 0x4;

    private static RawClient Ready(string path, out ulong handle, ushort version = 3)
    {
        var c = new RawClient(path);
        Assert.Equal(0, c.Request(b => new HelloRequest(1, version).Write(b, 1)));
        Assert.Equal(0, c.Request(b => new OpenRequest(2).Write(b, 2)));
        handle = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
        return c;
    }

    private static PollReply PollReplyOf(RawClient c)
    {
        Assert.Equal(Errno.None, PollReply.TryRead(c.LastReply, out var r));
        return r;
    }

    [Fact]
    public async Task AnArmedPollGetsOneEventWhenAnotherClientWrites()
    {
        await using var node = await MessageNode.StartAsync();
        using (var c = Ready(node.Path, out ulong h))
        {
            Assert.Equal(0, c.Request(b => new PollRequest(h, PollIn, PollRequest.Arm).Write(b, 50)));
            Assert.Equal(new PollReply(0, Armed: true), PollReplyOf(c));
            using (var writer = UmemDevice.Open(node.Path, FileAccess.Write))
            {
                writer.Write("a"u8);
                writer.Write("b"u8); // one-shot: this second wakeup sends nothing
            }
            Assert.Equal(0, c.Receive());
            Assert.Equal(Errno.None, PollEvent.TryRead(c.LastReply, out var ev, out uint seq));
            Assert.Equal((new PollEvent(h, PollIn), 50u), (ev, seq));
            // The next message is the reply to the next request: no second EVENT was queued.
            Assert.Equal(0, c.Request(b => new PollRequest(h, PollIn | PollOut, 0).Write(b, 51)));
            Assert.Equal((ushort)(Wire.ReplyBit | (ushort)MessageType.Poll), c.ReplyHeader.RawType);
            Assert.Equal(new PollReply(PollIn | PollOut, Armed: false), PollReplyOf(c));
        }
        node.AssertNothingLeft();
    }

    [Fact]
    public async Task ANewPollReplacesTheArmedOneAndCloseDropsIt()
    {
        await using var node = await MessageNode.StartAsync();
        using var c = Ready(node.Path, out ulong h);
        Assert.Equal(0, c.Request(b => new PollRequest(h, PollIn, PollRequest.Arm).Write(b, 60)));
        Assert.Equal(0, c.Request(b => new PollRequest(h, PollIn, PollRequest.Arm).Write(b, 61)));
        Assert.Equal(1, node.Driver.PollHead.SubscriberCount);
        Assert.Equal(0, c.Request(b => new IdRequest(MessageType.Close, h).Write(b, 62)));
        Assert.Equal(0, node.Driver.PollHead.SubscriberCount);
        Assert.Equal((int)Errno.EBADF, c.Request(b => new PollRequest(h, PollIn, 0).Write(b, 63)));
    }

    [Fact]
    public async Task EventNowSendsTheEventOfWhatIsReadyAtOnce()
    {
        await using var node = await MessageNode.StartAsync();
        using var c = Ready(node.Path, out ulong h);
        Assert.Equal(0, c.Request(b => new PollRequest(h, PollIn | PollOut, PollRequest.Arm | PollRequest.EventNow).Write(b, 70)));
        Assert.Equal(new PollReply(PollOut, Armed: true), PollReplyOf(c));
        Assert.Equal(0, c.Receive());
        Assert.Equal(Errno.None, PollEvent.TryRead(c.LastReply, out var ev, out uint seq));
        Assert.Equal((new PollEvent(h, PollOut), 70u), (ev, seq));
    }

    [Fact]
    public async Task BadPollsGetTheirErrnos()
    {
        await using var node = await MessageNode.StartAsync();
        using (var c = Ready(node.Path, out ulong h))
        {
            Assert.Equal((int)Errno.EINVAL, c.Request(b => new PollRequest(h, PollIn, 4).Write(b, 80)));                     // unknown flag
            Assert.Equal((int)Errno.EINVAL, c.Request(b => new PollRequest(h, 0x8, 0).Write(b, 81)));                        // POLLERR is output only
            Assert.Equal((int)Errno.EINVAL, c.Request(b => new PollRequest(h, PollIn, PollRequest.EventNow).Write(b, 82)));  // EVENT_NOW without ARM
            Assert.Equal((int)Errno.EBADF, c.Request(b => new PollRequest(h + 1, PollIn, 0).Write(b, 83)));
        }
        using (var old = Ready(node.Path, out ulong h2, version: 2))
        {
            Assert.Equal((int)Errno.EPROTO, old.Request(b => new PollRequest(h2, PollIn, 0).Write(b, 84))); // not in version 2
            Assert.True(old.IsClosedByHost());
        }
        node.AssertNothingLeft();
    }

    [Fact]
    public async Task UmemDevicePollWaitsForAWriteAndSeesRoomAtOnce()
    {
        await using var node = await MessageNode.StartAsync();
        using (var reader = UmemDevice.Open(node.Path, FileAccess.Read))
        {
            Assert.Equal(UmemPollEvents.Out, reader.Poll(UmemPollEvents.In | UmemPollEvents.Out, TimeSpan.Zero));
            Assert.Equal(UmemPollEvents.None, reader.Poll(UmemPollEvents.In, TimeSpan.Zero));
            Assert.Equal(UmemPollEvents.None, reader.Poll(UmemPollEvents.In, TimeSpan.FromMilliseconds(20))); // the time runs out
            var waiting = Task.Run(() => reader.Poll(UmemPollEvents.In, TimeSpan.FromSeconds(60)));
            Eventually.WaitUntil(() => node.Driver.PollHead.SubscriberCount == 1, "the reader's poll to be armed");
            using (var writer = UmemDevice.Open(node.Path, FileAccess.Write))
                writer.Write("x"u8);
            Assert.Equal(UmemPollEvents.In, await waiting);
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Poll(UmemPollEvents.Err, TimeSpan.Zero));
        }
        node.AssertNothingLeft();
    }
}
