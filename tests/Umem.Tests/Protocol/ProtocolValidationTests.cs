using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Protocol;

/// <summary>Every validation rule yields the errno docs/protocol.md names.</summary>
public sealed class ProtocolValidationTests
{
    private const int Page = 4096;

    private static byte[] Message(Func<byte[], int> write)
    {
        var b = new byte[Wire.MaxMessage];
        return b[..write(b)];
    }

    [Fact]
    public void HeaderErrors()
    {
        var ok = Message(b => new OpenRequest(2).Write(b, 1));
        Assert.Equal(Errno.None, MessageHeader.TryRead(ok, out _));
        Assert.Equal(Errno.EBADMSG, MessageHeader.TryRead(ok.AsSpan(0, 15), out _)); // shorter than a header
        var bad = (byte[])ok.Clone();
        bad[0] ^= 0xFF;
        Assert.Equal(Errno.EBADMSG, MessageHeader.TryRead(bad, out _)); // magic
        bad = (byte[])ok.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan(4), 2);
        Assert.Equal(Errno.EPROTONOSUPPORT, MessageHeader.TryRead(bad, out _)); // version
        bad = (byte[])ok.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(8), 99);
        Assert.Equal(Errno.EBADMSG, MessageHeader.TryRead(bad, out _)); // length field vs bytes
        Assert.Equal(Errno.EBADMSG, MessageHeader.TryRead([.. ok, 0], out _));
    }

    [Fact]
    public void WrongSizeIsEbadmsgForEveryType()
    {
        var hello = Message(b => new HelloRequest(1, 1).Write(b, 1));
        Assert.Equal(Errno.EBADMSG, HelloRequest.TryRead(hello.AsSpan(..^1), out _));
        Assert.Equal(Errno.EBADMSG, OpenRequest.TryRead(Message(b => new OpenRequest(0).Write(b, 1)).AsSpan(..^4), out _));
        Assert.Equal(Errno.EBADMSG, IdRequest.TryRead(Message(b => new IdRequest(MessageType.Close, 1).Write(b, 1)).AsSpan(..^1), MessageType.Close, out _));
        Assert.Equal(Errno.EBADMSG, MmapRequest.TryRead([.. Message(b => new MmapRequest(1, 0, Page, 1, 1).Write(b, 1)), 0], Page, out _));
        Assert.Equal(Errno.EBADMSG, MunmapRequest.TryRead(Message(b => new MunmapRequest(1, 0, Page).Write(b, 1)).AsSpan(..^8), Page, out _));
        Assert.Equal(Errno.EBADMSG, RegisterRequest.TryRead(Message(b => new RegisterRequest(Page, Page, 0).Write(b, 1)).AsSpan(..^1), Page, out _));
        Assert.Equal(Errno.EBADMSG, IdRequest.TryRead(Message(b => new IdRequest(MessageType.Unregister, 1).Write(b, 1)).AsSpan(..^1), MessageType.Unregister, out _));
        var ioctl = Message(b => new IoctlRequest(1, 1, 0, 4).Write(b, 1, [1, 2, 3, 4]));
        Assert.Equal(Errno.EBADMSG, IoctlRequest.TryRead(ioctl.AsSpan(..^1), out _)); // in_len says 4, 3 follow
        Assert.Equal(Errno.EBADMSG, IoctlRequest.TryRead(ioctl.AsSpan(..30), out _));
    }

    [Fact]
    public void ReservedFieldsMustBeZero()
    {
        var hello = Message(b => new HelloRequest(1, 1).Write(b, 1));
        hello[20] = 1;
        Assert.Equal(Errno.EBADMSG, HelloRequest.TryRead(hello, out _));
        var open = Message(b => new OpenRequest(0).Write(b, 1));
        open[20] = 1;
        Assert.Equal(Errno.EBADMSG, OpenRequest.TryRead(open, out _));
        var ioctl = Message(b => new IoctlRequest(1, 1, 0, 0).Write(b, 1, []));
        ioctl[36] = 1;
        Assert.Equal(Errno.EBADMSG, IoctlRequest.TryRead(ioctl, out _));
        var reg = Message(b => new RegisterRequest(Page, Page, 0).Write(b, 1));
        reg[36] = 1;
        Assert.Equal(Errno.EBADMSG, RegisterRequest.TryRead(reg, Page, out _));
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(4u)]
    [InlineData(0x42u)]
    [InlineData(0x80002u)]
    public void OpenFlagsBeyondTheAccessModeAreEinval(uint oflags) =>
        Assert.Equal(Errno.EINVAL, OpenRequest.TryRead(Message(b => new OpenRequest(oflags).Write(b, 1)), out _));

    [Theory]
    [InlineData(1ul, 4096ul, 1u, 1u)] // unaligned offset
    [InlineData(0ul, 4095ul, 1u, 1u)] // unaligned length
    [InlineData(0ul, 0ul, 1u, 1u)] // zero length
    [InlineData(0ul, 4096ul, 8u, 1u)] // unknown prot bit
    [InlineData(0ul, 4096ul, 1u, 0u)] // neither shared nor private
    [InlineData(0ul, 4096ul, 1u, 3u)] // both
    [InlineData(0x7FFFFFFFFFFFF000ul, 8192ul, 1u, 1u)] // past 2^63
    public void MmapOutOfRangeIsEinval(ulong offset, ulong length, uint prot, uint flags) =>
        Assert.Equal(Errno.EINVAL, MmapRequest.TryRead(Message(b => new MmapRequest(1, offset, length, prot, flags).Write(b, 1)), Page, out _));

    [Fact]
    public void OtherOutOfRangeValuesAreEinval()
    {
        Assert.Equal(Errno.EINVAL, MunmapRequest.TryRead(Message(b => new MunmapRequest(1, 100, Page).Write(b, 1)), Page, out _));
        Assert.Equal(Errno.EINVAL, MunmapRequest.TryRead(Message(b => new MunmapRequest(1, 0, 0).Write(b, 1)), Page, out _));
        Assert.Equal(Errno.EINVAL, RegisterRequest.TryRead(Message(b => new RegisterRequest(Page, Page, 1).Write(b, 1)), Page, out _));
        Assert.Equal(Errno.EINVAL, RegisterRequest.TryRead(Message(b => new RegisterRequest(Page + 1, Page, 0).Write(b, 1)), Page, out _));
        Assert.Equal(Errno.EINVAL, RegisterRequest.TryRead(Message(b => new RegisterRequest(0, Page, 0).Write(b, 1)), Page, out _));
        var ioctl = Message(b => new IoctlRequest(1, 1, 0, 0).Write(b, 1, []));
        BinaryPrimitives.WriteUInt32LittleEndian(ioctl.AsSpan(28), Wire.MaxIoctlData + 1); // out_max
        Assert.Equal(Errno.EINVAL, IoctlRequest.TryRead(ioctl, out _));
    }

    [Fact]
    public void HelloNegotiation()
    {
        Assert.Equal(Errno.None, new HelloRequest(1, 5).Negotiate(out ushort v));
        Assert.Equal(3, v);                                                       // the highest both speak
        Assert.Equal(Errno.None, new HelloRequest(1, 1).Negotiate(out v));
        Assert.Equal(1, v);                                                       // a version 1 client stays at 1
        Assert.Equal(Errno.None, new HelloRequest(2, 2).Negotiate(out v));
        Assert.Equal(2, v);                                                       // a version 2 client stays at 2
        Assert.Equal(Errno.None, new HelloRequest(2, 4).Negotiate(out v));
        Assert.Equal(3, v);
        Assert.Equal(Errno.EPROTONOSUPPORT, new HelloRequest(4, 5).Negotiate(out _));
        Assert.Equal(Errno.EPROTONOSUPPORT, new HelloRequest(0, 0).Negotiate(out _));
        Assert.Equal(Errno.EPROTONOSUPPORT, new HelloRequest(1, 0).Negotiate(out _));
    }

    [Fact]
    public void ReplyPrefixChecks()
    {
        var reply = Message(b => Reply.WriteError(b, MessageType.Open, 7, 13));
        Assert.Equal(Errno.None, Reply.TryReadPrefix(reply, MessageType.Open, 7, out int errno));
        Assert.Equal(13, errno);
        Assert.Equal(Errno.EPROTO, Reply.TryReadPrefix(reply, MessageType.Open, 8, out _)); // wrong seq
        Assert.Equal(Errno.EPROTO, Reply.TryReadPrefix(reply, MessageType.Mmap, 7, out _)); // wrong type
        var request = Message(b => new OpenRequest(0).Write(b, 7));
        Assert.Equal(Errno.EPROTO, Reply.TryReadPrefix(request, MessageType.Open, 7, out _)); // not a reply
        var failedButLong = Message(b => new OpenReply(1).Write(b, 7));
        BinaryPrimitives.WriteInt32LittleEndian(failedButLong.AsSpan(16), 13);
        Assert.Equal(Errno.EBADMSG, Reply.TryReadPrefix(failedButLong, MessageType.Open, 7, out _));
        BinaryPrimitives.WriteInt32LittleEndian(reply.AsSpan(16), -1);
        Assert.Equal(Errno.EBADMSG, Reply.TryReadPrefix(reply, MessageType.Open, 7, out _));
    }

    [Fact]
    public void MmapReplySegmentsMustDescribeTheMappingExactly()
    {
        static byte[] Build(ulong length, params MmapSegment[] segs)
        {
            var b = new byte[Wire.MaxMessage];
            int n = new MmapReply(1, length, (uint)segs.Length).WriteFixed(b, 1);
            for (int i = 0; i < segs.Length; i++) segs[i].Write(MmapReply.SegmentSlot(b, i));
            return b[..n];
        }
        Assert.Equal(Errno.None, MmapReply.TryRead(Build(2 * Page, new MmapSegment(0, Page, 0, 3, 0), new MmapSegment(Page, Page, 0, 1, 1)), Page, out _));
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(2 * Page, new MmapSegment(0, Page, 0, 3, 0)), Page, out _)); // short
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(2 * Page, new MmapSegment(0, Page, 0, 3, 0), new MmapSegment(2 * Page, Page, 0, 3, 1)), Page, out _)); // gap
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(2 * Page, new MmapSegment(0, 2 * Page, 0, 3, 0), new MmapSegment(Page, Page, 0, 3, 1)), Page, out _)); // overlap
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(Page, new MmapSegment(0, Page, 0, 8, 0)), Page, out _)); // maxprot bit
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(Page, new MmapSegment(0, Page, 0, 1, 1)), Page, out _)); // fd index
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(Build(Page, new MmapSegment(0, Page, 100, 1, 0)), Page, out _)); // fd offset
        var truncated = Build(2 * Page, new MmapSegment(0, Page, 0, 3, 0), new MmapSegment(Page, Page, 0, 1, 1));
        Assert.Equal(Errno.EBADMSG, MmapReply.TryRead(truncated.AsSpan(..^32), Page, out _)); // nseg vs size
    }
}
