using Umem.Client;
using Umem.Platform;
using Umem.Protocol;
using Umem.Tests.Host;

namespace Umem.Tests.Client;

/// <summary>Mappings of more segments than one message carries fds: MMAP_MORE, and the E2BIG limit.</summary>
public sealed class LargeMappingTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task ThreeHundredSegmentsArriveInTwoMessages()
    {
        var maxProt = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? 1 : 3).ToArray();
        await using var host = TestHost.Start(maxProt);

        // Raw: the first reply carries 250 fds, MMAP_MORE (same seq) the other 50.
        using (var c = RawClient.Ready(host.Path, out ulong h))
        {
            Assert.Equal(0, c.Request(b => new MmapRequest(h, 0, 300ul * (ulong)Page, 1, 1).Write(b, 50)));
            Assert.Equal(Errno.None, MmapReply.TryRead(c.LastReply, Page, out var reply));
            Assert.Equal((300u, 250), (reply.SegmentCount, c.Fds.Count));
            for (int i = 0; i < 300; i++)
            {
                var s = MmapReply.ReadSegment(c.LastReply, i);
                Assert.Equal(((ulong)i * (ulong)Page, (uint)maxProt[i], (uint)i), (s.Offset, s.MaxProt, s.FdIndex));
            }
            for (int i = 0; i < 250; i++)
            {
                int accmode = Interop.fcntl(c.Fds[i], Interop.F_GETFL, 0) & Interop.O_ACCMODE;
                Assert.Equal(maxProt[i] == 1 ? Interop.O_RDONLY : Interop.O_RDWR, accmode); // read-only segments get O_RDONLY fds
            }
            var fds = c.Fds.ToList();
            c.Fds.Clear();
            Assert.Equal(0, c.Receive());
            Assert.Equal((Wire.ReplyBit | (int)MessageType.MmapMore, 50u), (c.ReplyHeader.RawType, c.ReplyHeader.Seq));
            Assert.Equal(Errno.None, MmapMore.TryRead(c.LastReply, out var more));
            Assert.Equal((new MmapMore(250, 50), 50), (more, c.Fds.Count));
            foreach (var fd in fds) fd.Dispose();
        }

        // Through the library: one contiguous mapping, each page the device's own.
        using var device = UmemDevice.Open(host.Path);
        using var m = device.Map(0, 300L * Page, Prot.Read);
        for (int i = 0; i < 300; i += 37) host.Driver.Kernel((long)i * Page + 7, 1)[0] = (byte)i;
        for (int i = 0; i < 300; i += 37) Assert.Equal((byte)i, m.GetSpan((long)i * Page + 7, 1)[0]);
    }

    [Fact]
    public async Task MoreSegmentsThanOneReplyDescribesIsE2big()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, Wire.MaxSegments + 1).ToArray());
        using var device = UmemDevice.Open(host.Path);
        var e = Assert.Throws<ErrnoException>(() => device.Map(0, (long)(Wire.MaxSegments + 1) * Page));
        Assert.Equal(Errno.E2BIG, e.Errno);
        Assert.Equal(0, host.LiveMappings); // released again
        using var m = device.Map(0, (long)Wire.MaxSegments * Page); // the largest that fits
        m.Span[^1] = 1;
        Assert.Equal(1, host.Driver.Kernel(((long)Wire.MaxSegments * Page) - 1, 1)[0]);
    }
}
