using System.Buffers.Binary;
using CsCheck;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Protocol;

/// <summary>Known bytes and round trips for every message of docs/protocol.md.</summary>
public sealed class ProtocolEncodingTests
{
    private const int Page = 4096;

    private static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);

    [Fact]
    public void HeaderAndHelloHaveTheDocumentedBytes()
    {
        var buf = new byte[64];
        int n = new HelloRequest(1, 1).Write(buf, seq: 1);
        // magic "UMEM", version 1, type 1, length 24, seq 1 | min 1, max 1, reserved 0
        Assert.Equal("554D454D" + "0100" + "0100" + "18000000" + "01000000" + "0100" + "0100" + "00000000", Hex(buf.AsSpan(0, n)));
        n = new HelloReply(1, 4096, 65536, 250).Write(buf, seq: 1);
        Assert.Equal("554D454D" + "0100" + "0180" + "24000000" + "01000000" + "00000000" + "0100" + "0000" + "00100000" + "00000100" + "FA000000", Hex(buf.AsSpan(0, n)));
    }

    [Fact]
    public void EveryRequestHasTheDocumentedBytes()
    {
        var b = new byte[128];
        Assert.Equal("554D454D010002001800000007000000" + "02000000" + "00000000", Hex(b.AsSpan(0, new OpenRequest(2).Write(b, 7))));
        Assert.Equal("554D454D010003001800000008000000" + "0500000000000000", Hex(b.AsSpan(0, new IdRequest(MessageType.Close, 5).Write(b, 8))));
        Assert.Equal("554D454D010004003000000009000000" + "0500000000000000" + "0010000000000000" + "0020000000000000" + "03000000" + "01000000",
            Hex(b.AsSpan(0, new MmapRequest(5, 4096, 8192, 3, 1).Write(b, 9))));
        Assert.Equal("554D454D01000500280000000A000000" + "0200000000000000" + "0000000000000000" + "0010000000000000",
            Hex(b.AsSpan(0, new MunmapRequest(2, 0, 4096).Write(b, 10))));
        Assert.Equal("554D454D010006002B0000000B000000" + "0500000000000000" + "78560000" + "10000000" + "03000000" + "00000000" + "AABBCC",
            Hex(b.AsSpan(0, new IoctlRequest(5, 0x5678, 16, 3).Write(b, 11, [0xAA, 0xBB, 0xCC]))));
        Assert.Equal("554D454D01000700280000000C000000" + "0000000010000000" + "0020000000000000" + "00000000" + "00000000",
            Hex(b.AsSpan(0, new RegisterRequest(0x1000000000, 8192, 0).Write(b, 12))));
        Assert.Equal("554D454D01000800180000000D000000" + "0300000000000000", Hex(b.AsSpan(0, new IdRequest(MessageType.Unregister, 3).Write(b, 13))));
    }

    [Fact]
    public void ANoReplyMunmapSetsBit14AndNothingElse()
    {
        var b = new byte[64];
        int n = new MunmapRequest(2, 0, 4096).Write(b, 10, noReply: true);
        Assert.Equal("554D454D01000540280000000A000000" + "0200000000000000" + "0000000000000000" + "0010000000000000", Hex(b.AsSpan(0, n)));
        Assert.Equal(Errno.None, MessageHeader.TryRead(b.AsSpan(0, n), out var h));
        Assert.Equal((MessageType.Munmap, true, false), (h.Type, h.NoReply, h.IsReply));
        Assert.Equal(Errno.None, MunmapRequest.TryRead(b.AsSpan(0, n), Page, out var r));
        Assert.Equal(new MunmapRequest(2, 0, 4096), r);
        // A reply never carries it: a reply with bit 14 is not the MUNMAP reply.
        n = Reply.WriteEmpty(b, MessageType.Munmap, 10);
        Assert.Equal(Errno.None, Reply.TryReadPrefix(b.AsSpan(0, n), MessageType.Munmap, 10, out _));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), 0x8000 | 0x4000 | 5);
        Assert.Equal(Errno.EPROTO, Reply.TryReadPrefix(b.AsSpan(0, n), MessageType.Munmap, 10, out _));
    }

    [Fact]
    public void EveryReplyHasTheDocumentedBytes()
    {
        var b = new byte[256];
        Assert.Equal("554D454D010002801C00000007000000" + "00000000" + "0100000000000000", Hex(b.AsSpan(0, new OpenReply(1).Write(b, 7))));
        Assert.Equal("554D454D010003801400000008000000" + "00000000", Hex(b.AsSpan(0, Reply.WriteEmpty(b, MessageType.Close, 8))));
        Assert.Equal("554D454D010004801400000009000000" + "06000000", Hex(b.AsSpan(0, Reply.WriteError(b, MessageType.Mmap, 9, 6))));
        int n = new MmapReply(4, 8192, 2).WriteFixed(b, 9);
        new MmapSegment(0, 4096, 0, 3, 0).Write(MmapReply.SegmentSlot(b, 0));
        new MmapSegment(4096, 4096, 4096, 1, 1).Write(MmapReply.SegmentSlot(b, 1));
        Assert.Equal("554D454D010004806C00000009000000" + "00000000" + "0400000000000000" + "0020000000000000" + "02000000" + "00000000"
            + "0000000000000000" + "0010000000000000" + "0000000000000000" + "03000000" + "00000000"
            + "0010000000000000" + "0010000000000000" + "0010000000000000" + "01000000" + "01000000", Hex(b.AsSpan(0, n)));
        Assert.Equal("554D454D01000980" + "1C000000" + "09000000" + "00000000" + "FA000000" + "32000000", Hex(b.AsSpan(0, new MmapMore(250, 50).Write(b, 9))));
        b[IoctlReply.FixedSize] = 0x42;
        Assert.Equal("554D454D010006801D0000000B000000" + "00000000" + "07000000" + "01000000" + "42", Hex(b.AsSpan(0, new IoctlReply(7, 1).WriteFixed(b, 11))));
        Assert.Equal("554D454D01000780" + "1C000000" + "0C000000" + "00000000" + "0900000000000000", Hex(b.AsSpan(0, new RegisterReply(9).Write(b, 12))));
    }

    [Fact]
    public void RequestsRoundTrip()
    {
        Gen.Select(Gen.ULong, Gen.UInt[0, 2000], Gen.UInt[1, 2000], Gen.UInt[0, 7], Gen.UInt[1, 2], Gen.UInt).Sample((h, off, len, prot, flags, seq) =>
        {
            var b = new byte[256]; // CsCheck samples on several threads
            var req = new MmapRequest(h, off * Page, len * Page, prot, flags);
            int n = req.Write(b, seq);
            Assert.Equal(Errno.None, MessageHeader.TryRead(b.AsSpan(0, n), out var header));
            Assert.Equal((MessageType.Mmap, seq, false), (header.Type, header.Seq, header.IsReply));
            Assert.Equal(Errno.None, MmapRequest.TryRead(b.AsSpan(0, n), Page, out var back));
            Assert.Equal(req, back);

            var un = new MunmapRequest(h, off * Page, len * Page);
            n = un.Write(b, seq);
            Assert.Equal(Errno.None, MunmapRequest.TryRead(b.AsSpan(0, n), Page, out var unBack));
            Assert.Equal(un, unBack);

            var reg = new RegisterRequest((off + 1) * Page, len * Page, 0);
            n = reg.Write(b, seq);
            Assert.Equal(Errno.None, RegisterRequest.TryRead(b.AsSpan(0, n), Page, out var regBack));
            Assert.Equal(reg, regBack);
        });
        Gen.Select(Gen.ULong, Gen.UInt, Gen.UInt[0, Wire.MaxIoctlData], Gen.Byte.Array[0, 3000]).Sample((h, cmd, outMax, input) =>
        {
            var b = new byte[Wire.MaxMessage];
            var req = new IoctlRequest(h, cmd, outMax, (uint)input.Length);
            int n = req.Write(b, 5, input);
            Assert.Equal(Errno.None, IoctlRequest.TryRead(b.AsSpan(0, n), out var back));
            Assert.Equal(req, back);
            Assert.Equal(input, IoctlRequest.Input(b.AsSpan(0, n)).ToArray());
        });
        Gen.Select(Gen.UInt[0, 2], Gen.ULong).Sample((oflags, id) =>
        {
            var b = new byte[64];
            int n = new OpenRequest(oflags).Write(b, 1);
            Assert.Equal(Errno.None, OpenRequest.TryRead(b.AsSpan(0, n), out var o));
            Assert.Equal(oflags, o.OFlags);
            n = new IdRequest(MessageType.Close, id).Write(b, 1);
            Assert.Equal(Errno.None, IdRequest.TryRead(b.AsSpan(0, n), MessageType.Close, out var c));
            Assert.Equal(id, c.Id);
        });
    }

    [Fact]
    public void RepliesRoundTrip()
    {
        Gen.Select(Gen.ULong, Gen.Int[1, Wire.MaxSegments], Gen.UInt).Sample((id, nseg, seq) =>
        {
            var b = new byte[Wire.MaxMessage];
            int n = new MmapReply(id, (ulong)nseg * Page, (uint)nseg).WriteFixed(b, seq);
            for (int i = 0; i < nseg; i++)
                new MmapSegment((ulong)i * Page, Page, (ulong)(nseg - i) * Page, (uint)(i % 8), (uint)i).Write(MmapReply.SegmentSlot(b, i));
            Assert.Equal(Errno.None, Reply.TryReadPrefix(b.AsSpan(0, n), MessageType.Mmap, seq, out int errno));
            Assert.Equal(0, errno);
            Assert.Equal(Errno.None, MmapReply.TryRead(b.AsSpan(0, n), Page, out var r));
            Assert.Equal(new MmapReply(id, (ulong)nseg * Page, (uint)nseg), r);
            Assert.Equal(Math.Min(nseg, Wire.MaxFds), r.FdsInFirstReply);
            var last = MmapReply.ReadSegment(b.AsSpan(0, n), nseg - 1);
            Assert.Equal(new MmapSegment((ulong)(nseg - 1) * Page, Page, Page, (uint)((nseg - 1) % 8), (uint)(nseg - 1)), last);
        }, iter: 50);
        Gen.Select(Gen.Int, Gen.Byte.Array[0, 1000]).Sample((rval, data) =>
        {
            var b = new byte[Wire.MaxMessage];
            data.CopyTo(b, IoctlReply.FixedSize);
            int n = new IoctlReply(rval, (uint)data.Length).WriteFixed(b, 3);
            Assert.Equal(Errno.None, IoctlReply.TryRead(b.AsSpan(0, n), 1000, out var r));
            Assert.Equal((rval, (uint)data.Length), (r.Rval, r.OutLength));
            Assert.Equal(data, IoctlReply.Output(b.AsSpan(0, n)).ToArray());
        });
        var b = new byte[128];
        int h = new HelloReply(1, 4096, 65536, 250).Write(b, 1);
        Assert.Equal(Errno.None, HelloReply.TryRead(b.AsSpan(0, h), out var hello));
        Assert.Equal(new HelloReply(1, 4096, 65536, 250), hello);
        h = new MmapMore(250, 3).Write(b, 4);
        Assert.Equal(Errno.None, Reply.TryReadPrefix(b.AsSpan(0, h), MessageType.MmapMore, 4, out _));
        Assert.Equal(Errno.None, MmapMore.TryRead(b.AsSpan(0, h), out var more));
        Assert.Equal(new MmapMore(250, 3), more);
    }

    [Fact]
    public void DecodingAllocatesNothing()
    {
        var b = new byte[256];
        int n = new MmapRequest(1, 0, 4096, 3, 1).Write(b, 1);
        _ = MmapRequest.TryRead(b.AsSpan(0, n), Page, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            n = new MmapRequest(1, 0, 4096, 3, 1).Write(b, (uint)i);
            _ = MessageHeader.TryRead(b.AsSpan(0, n), out _);
            _ = MmapRequest.TryRead(b.AsSpan(0, n), Page, out _);
            n = new MmapReply(1, 4096, 1).WriteFixed(b, (uint)i);
            new MmapSegment(0, 4096, 0, 3, 0).Write(MmapReply.SegmentSlot(b, 0));
            _ = Reply.TryReadPrefix(b.AsSpan(0, n), MessageType.Mmap, (uint)i, out _);
            _ = MmapReply.TryRead(b.AsSpan(0, n), Page, out _);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void LimitsAreConsistent()
    {
        Assert.Equal(2046, Wire.MaxSegments);
        Assert.True(MmapReply.SizeFor(Wire.MaxSegments) <= Wire.MaxMessage);
        Assert.True(MmapReply.SizeFor(Wire.MaxSegments + 1) > Wire.MaxMessage);
        Assert.True(IoctlRequest.FixedSize + Wire.MaxIoctlData <= Wire.MaxMessage);
        Assert.Equal(0x4D454D55u, BinaryPrimitives.ReadUInt32LittleEndian("UMEM"u8));
    }
}
