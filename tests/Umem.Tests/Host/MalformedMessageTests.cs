using System.Buffers.Binary;
using System.IO.Pipes;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Host;

/// <summary>
/// Every kind of bad message a client can send, over a real socket to a real host: each gets the errno
/// docs/protocol.md names, the connection is closed exactly when the spec says, fds that came along are closed,
/// and the host goes on serving others.
/// </summary>
public sealed class MalformedMessageTests : IAsyncLifetime
{
    private TestHost _host = null!;

    public ValueTask InitializeAsync()
    {
        _host = TestHost.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // The host survived: a well-behaved client is served after everything below.
        using (var c = RawClient.Ready(_host.Path, out ulong h))
            Assert.True(c.StillServed(h));
        await _host.DisposeAsync();
    }

    private static byte[] Bytes(Func<byte[], int> write)
    {
        var b = new byte[Wire.MaxMessage];
        return b.AsSpan(0, write(b)).ToArray();
    }

    [Fact]
    public void ARequestBeforeHelloIsEprotoAndCloses()
    {
        using var c = new RawClient(_host.Path);
        Assert.Equal((int)Errno.EPROTO, c.Request(b => new OpenRequest(2).Write(b, 5)));
        Assert.Equal((MessageType.Open, true, 5u), (c.ReplyHeader.Type, c.ReplyHeader.IsReply, c.ReplyHeader.Seq));
        Assert.True(c.IsClosedByHost());
    }

    [Fact]
    public void HeaderErrorsAnswerAndClose()
    {
        var hello = Bytes(b => new HelloRequest(1, 1).Write(b, 9));
        var badMagic = (byte[])hello.Clone();
        badMagic[0] = (byte)'X';
        var badVersion = (byte[])hello.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(badVersion.AsSpan(4), 7);
        var badLength = (byte[])hello.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badLength.AsSpan(8), 99);
        foreach (var (message, errno) in new[] { (badMagic, Errno.EBADMSG), (badVersion, Errno.EPROTONOSUPPORT), (badLength, Errno.EBADMSG), (hello[..10], Errno.EBADMSG) })
        {
            using var c = new RawClient(_host.Path);
            Assert.Equal((int)errno, c.Send(message));
            Assert.True(c.IsClosedByHost());
        }
    }

    [Theory]
    [InlineData((ushort)42)]
    [InlineData((ushort)0)]
    [InlineData((ushort)9)] // MMAP_MORE is host to client only
    [InlineData((ushort)10)] // READ on a connection that negotiated version 1 (RawClient.Ready offers only 1)
    [InlineData((ushort)11)] // WRITE, likewise
    [InlineData((ushort)0x8003)] // a reply sent as a request
    public void UnknownTypesAreEprotoAndClose(ushort type)
    {
        using var c = RawClient.Ready(_host.Path, out _);
        var m = Bytes(b => new IdRequest(MessageType.Close, 1).Write(b, 77));
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), type);
        Assert.Equal((int)Errno.EPROTO, c.Send(m));
        Assert.Equal(77u, c.ReplyHeader.Seq);
        Assert.True(c.IsClosedByHost());
    }

    [Fact]
    public void AnOversizedMessageIsEmsgsizeAndCloses()
    {
        using var c = RawClient.Ready(_host.Path, out _);
        var m = new byte[Wire.MaxMessage + 5000];
        MessageHeader.Write(m, MessageType.Ioctl, reply: false, m.Length, 31);
        Assert.Equal((int)Errno.EMSGSIZE, c.Send(m));
        Assert.Equal(31u, c.ReplyHeader.Seq);
        Assert.True(c.IsClosedByHost());
    }

    [Fact]
    public async Task AClientThatNeverSaysHelloIsDropped()
    {
        await using var host = TestHost.Start(options: new Umem.Host.DeviceHostOptions { HelloTimeout = TimeSpan.FromMilliseconds(100) });
        using var silent = new RawClient(host.Path);
        Assert.True(silent.IsClosedByHost());
        using var c = RawClient.Ready(host.Path, out ulong h); // one that does is served past the timeout
        // The sleep is the thing under test, not a synchronisation: three hello timeouts (100 ms) pass first.
        Thread.Sleep(300);
        Assert.True(c.StillServed(h));
    }

    [Fact]
    public void HelloNegotiation()
    {
        using (var c = new RawClient(_host.Path))
        {
            Assert.Equal(0, c.Request(b => new HelloRequest(1, 9).Write(b, 1)));
            Assert.Equal(Errno.None, HelloReply.TryRead(c.LastReply, out var reply));
            Assert.Equal(new HelloReply(Wire.Version, (uint)SystemPage.Size, Wire.MaxMessage, Wire.MaxFds), reply);
            Assert.Equal((int)Errno.EPROTO, c.Request(b => new HelloRequest(1, 1).Write(b, 2))); // only once
            Assert.True(c.IsClosedByHost());
        }
        using (var c = new RawClient(_host.Path))
        {
            Assert.Equal((int)Errno.EPROTONOSUPPORT, c.Request(b => new HelloRequest(Wire.Version + 1, Wire.Version + 2).Write(b, 1)));
            Assert.True(c.IsClosedByHost());
        }
        using (var c = new RawClient(_host.Path))
        {
            var m = Bytes(b => new HelloRequest(1, 1).Write(b, 1));
            m[20] = 1; // reserved
            Assert.Equal((int)Errno.EBADMSG, c.Send(m));
            Assert.Equal(0, c.Request(b => new HelloRequest(1, 1).Write(b, 2))); // a malformed HELLO may be retried
        }
    }

    [Fact]
    public void AWrongSizeIsEbadmsgForEveryTypeAndTheConnectionGoesOn()
    {
        using var c = RawClient.Ready(_host.Path, out ulong h);
        var messages = new[]
        {
            Bytes(b => new OpenRequest(2).Write(b, 3)),
            Bytes(b => new IdRequest(MessageType.Close, h).Write(b, 3)),
            Bytes(b => new MmapRequest(h, 0, (ulong)SystemPage.Size, 1, 1).Write(b, 3)),
            Bytes(b => new MunmapRequest(1, 0, (ulong)SystemPage.Size).Write(b, 3)),
            Bytes(b => new IoctlRequest(h, 1, 0, 0).Write(b, 3, [])),
            Bytes(b => new IdRequest(MessageType.Unregister, 1).Write(b, 3)),
        };
        foreach (var m in messages)
        {
            foreach (int delta in new[] { -1, 4 })
            {
                var wrong = new byte[m.Length + delta];
                m.AsSpan(0, Math.Min(m.Length, wrong.Length)).CopyTo(wrong);
                BinaryPrimitives.WriteUInt32LittleEndian(wrong.AsSpan(8), (uint)wrong.Length);
                if (delta > 0 && MessageHeader.ReadRaw(m).Type == MessageType.Ioctl)
                    BinaryPrimitives.WriteUInt32LittleEndian(wrong.AsSpan(32), 0); // in_len 0 with 4 bytes following
                Assert.Equal((int)Errno.EBADMSG, c.Send(wrong));
            }
        }
        using (var memfd = MemFd.CreateSealed("reg", SystemPage.Size))
        {
            var reg = Bytes(b => new RegisterRequest((ulong)SystemPage.Size, (ulong)SystemPage.Size, 0).Write(b, 3));
            var wrong = reg[..^4];
            BinaryPrimitives.WriteUInt32LittleEndian(wrong.AsSpan(8), (uint)wrong.Length);
            Assert.Equal((int)Errno.EBADMSG, c.Send(wrong, memfd));
        }
        Assert.True(c.StillServed(h));
    }

    [Fact]
    public async Task UnexpectedFdsAreClosedAndTheRequestRefused()
    {
        using var c = RawClient.Ready(_host.Path, out ulong h);
        var requests = new Func<byte[], int>[]
        {
            b => new IoctlRequest(h, 1, 0, 0).Write(b, 4, []),
            b => new OpenRequest(2).Write(b, 4),
            b => new MmapRequest(h, 0, (ulong)SystemPage.Size, 1, 1).Write(b, 4),
            b => new IdRequest(MessageType.Unregister, 1).Write(b, 4),
        };
        foreach (var request in requests)
        {
            using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
            using (var writeEnd = new SafeFd((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false))
                Assert.Equal((int)Errno.EBADMSG, c.Request(request, writeEnd));
            pipe.DisposeLocalCopyOfClientHandle();
            // EOF only once the host closed the copy it received.
            Assert.Equal(0, await pipe.ReadAsync(new byte[1], TestContext.Current.CancellationToken).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        }
        // REGISTER wants exactly one.
        using (var m1 = MemFd.CreateSealed("a", SystemPage.Size))
        using (var m2 = MemFd.CreateSealed("b", SystemPage.Size))
        {
            Assert.Equal((int)Errno.EBADMSG, c.Request(b => new RegisterRequest((ulong)SystemPage.Size, (ulong)SystemPage.Size, 0).Write(b, 5)));
            Assert.Equal((int)Errno.EBADMSG, c.Request(b => new RegisterRequest((ulong)SystemPage.Size, (ulong)SystemPage.Size, 0).Write(b, 5), m1, m2));
        }
        Assert.True(c.StillServed(h));
        Assert.Equal(0, _host.LiveBuffers);
    }

    [Fact]
    public void RegisterChecksTheMemfd()
    {
        using var c = RawClient.Ready(_host.Path, out ulong h);
        ulong page = (ulong)SystemPage.Size;
        int Register(SafeFd fd, ulong length = 0) =>
            c.Request(b => new RegisterRequest(0x10000000, length == 0 ? page : length, 0).Write(b, 6), fd);

        using (var pipe = new AnonymousPipeServerStream(PipeDirection.In))
        using (var notMemfd = new SafeFd((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false))
            Assert.Equal((int)Errno.EINVAL, Register(notMemfd)); // not sealable
        using (var unsealed = Interop.memfd_create("unsealed", Interop.MFD_CLOEXEC | Interop.MFD_ALLOW_SEALING))
        {
            Assert.Equal(0, Interop.ftruncate(unsealed, SystemPage.Size));
            Assert.Equal((int)Errno.EINVAL, Register(unsealed)); // could shrink under the host
        }
        using (var sealedFd = MemFd.CreateSealed("ro", SystemPage.Size))
        using (var ro = MemFd.ReopenReadOnly(sealedFd))
        {
            // A read-only memfd registers (the kernel maps it read-only: a driver may lock it for reading only).
            Assert.Equal(0, Register(ro));
            ulong roId = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
            Assert.Equal(0, c.Request(b => new IdRequest(MessageType.Unregister, roId).Write(b, 7)));
            Assert.Equal((int)Errno.EINVAL, Register(sealedFd, 2 * page)); // shorter than the range
            Assert.Equal(0, Register(sealedFd));
            Assert.Equal(1, _host.LiveBuffers);
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
            Assert.Equal(0, c.Request(b => new IdRequest(MessageType.Unregister, id).Write(b, 7)));
            Assert.Equal((int)Errno.EBADF, c.Request(b => new IdRequest(MessageType.Unregister, id).Write(b, 8)));
        }
        Assert.Equal(0, _host.LiveBuffers);
        Assert.True(c.StillServed(h));
    }

    [Fact]
    public void OutOfRangeValuesAndUnknownIds()
    {
        ulong page = (ulong)SystemPage.Size;
        using var c = RawClient.Ready(_host.Path, out ulong h);
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new OpenRequest(3).Write(b, 1)));
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new MmapRequest(h, 1, page, 1, 1).Write(b, 1)));
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new MmapRequest(h, 0, page, 9, 1).Write(b, 1)));
        Assert.Equal((int)Errno.EBADF, c.Request(b => new MmapRequest(h + 100, 0, page, 1, 1).Write(b, 1)));
        Assert.Equal((int)Errno.ENXIO, c.Request(b => new MmapRequest(h, 4 * page, page, 1, 1).Write(b, 1))); // past the device
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new MmapRequest(h, 0, page, 1, 2).Write(b, 1))); // MAP_PRIVATE: no devmap_access
        Assert.Equal((int)Errno.ENXIO, c.Request(b => new MmapRequest(h, 2 * page, page, 3, 1).Write(b, 1))); // above maxprot: devmap_setup's ENXIO
        Assert.Equal((int)Errno.EBADF, c.Request(b => new MunmapRequest(999, 0, page).Write(b, 1)));
        Assert.Equal(0, c.Request(b => new MmapRequest(h, 0, page, 3, 1).Write(b, 1)));
        ulong mapping = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new MunmapRequest(mapping, 0, 2 * page).Write(b, 1))); // outside it
        Assert.Equal(0, c.Request(b => new MunmapRequest(mapping, 0, page).Write(b, 1)));
        Assert.Equal((int)Errno.EBADF, c.Request(b => new MunmapRequest(mapping, 0, page).Write(b, 1))); // gone
        Assert.Equal((int)Errno.EBADF, c.Request(b => new IoctlRequest(h + 1, 1, 0, 0).Write(b, 1, [])));
        Assert.Equal((int)Errno.ENOTTY, c.Request(b => new IoctlRequest(h, 0x999, 0, 0).Write(b, 1, [])));
        var big = Bytes(b => new IoctlRequest(h, 1, 0, 0).Write(b, 1, []));
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(28), 60001);
        Assert.Equal((int)Errno.EINVAL, c.Send(big));
        Assert.Equal((int)Errno.EBADF, c.Request(b => new IdRequest(MessageType.Close, h + 7).Write(b, 1)));
        Assert.Equal(0, c.Request(b => new IdRequest(MessageType.Close, h).Write(b, 1)));
        Assert.Equal((int)Errno.EBADF, c.Request(b => new IdRequest(MessageType.Close, h).Write(b, 1)));
    }

    [Fact]
    public void ANoReplyMunmapIsAnsweredOnlyWhenRefused()
    {
        ulong page = (ulong)SystemPage.Size;
        using var c = RawClient.Ready(_host.Path, out ulong h);
        Assert.Equal(0, c.Request(b => new MmapRequest(h, 0, 2 * page, 3, 1).Write(b, 10)));
        ulong mapping = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
        int unmaps = _host.Driver.Unmaps.Count;
        c.SendOnly(Bytes(b => new MunmapRequest(mapping, page, page).Write(b, 11, noReply: true)));
        // Nothing comes back for it: the next message is the next request's reply, and the host unmapped first.
        Assert.Equal(0, c.Request(b => new IoctlRequest(h, Umem.TestDrivers.TestDeviceDriver.IoctlEcho, 8, 2).Write(b, 12, [1, 2])));
        Assert.Equal((MessageType.Ioctl, 12u), (c.ReplyHeader.Type, c.ReplyHeader.Seq));
        Assert.Equal(unmaps + 1, _host.Driver.Unmaps.Count);
        // Unmapping the tail again changes nothing and says nothing (munmap(2) skips what is not mapped).
        c.SendOnly(Bytes(b => new MunmapRequest(mapping, page, page).Write(b, 13, noReply: true)));
        // Past the mapping's end: refusing a no-reply MUNMAP is the one reply it gets, and the connection closes.
        Assert.Equal((int)Errno.EINVAL, c.Request(b => new MunmapRequest(mapping, 2 * page, page).Write(b, 14, noReply: true)));
        Assert.Equal((MessageType.Munmap, true, 14u), (c.ReplyHeader.Type, c.ReplyHeader.IsReply, c.ReplyHeader.Seq));
        Assert.True(c.IsClosedByHost());
        Eventually.WaitUntil(() => _host.Driver.Unmaps.Count == unmaps + 2, "the head unmapped when the connection closed");
    }

    [Fact]
    public void ANoReplyMunmapOfAnUnknownMappingIsEbadfAndCloses()
    {
        using var c = RawClient.Ready(_host.Path, out _);
        Assert.Equal((int)Errno.EBADF, c.Request(b => new MunmapRequest(77, 0, (ulong)SystemPage.Size).Write(b, 5, noReply: true)));
        Assert.True(c.IsClosedByHost());
    }

    [Fact]
    public void TheNoReplyBitOnAnyOtherRequestIsEprotoAndCloses()
    {
        foreach (var type in new[] { MessageType.Open, MessageType.Close, MessageType.Mmap, MessageType.Ioctl, MessageType.Unregister })
        {
            using var c = RawClient.Ready(_host.Path, out ulong h);
            var message = type switch
            {
                MessageType.Open => Bytes(b => new OpenRequest(2).Write(b, 7)),
                MessageType.Mmap => Bytes(b => new MmapRequest(h, 0, (ulong)SystemPage.Size, 1, 1).Write(b, 7)),
                MessageType.Ioctl => Bytes(b => new IoctlRequest(h, Umem.TestDrivers.TestDeviceDriver.IoctlEcho, 8, 0).Write(b, 7, [])),
                _ => Bytes(b => new IdRequest(type, h).Write(b, 7)),
            };
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), (ushort)((ushort)type | Wire.NoReplyBit));
            Assert.Equal((int)Errno.EPROTO, c.Send(message));
            Assert.Equal((type, 7u), (c.ReplyHeader.Type, c.ReplyHeader.Seq));
            Assert.True(c.IsClosedByHost(), $"{type} with the no-reply bit");
        }
    }

    [Fact]
    public void OpenModesAreEnforcedAsMmapEnforcesThem()
    {
        ulong page = (ulong)SystemPage.Size;
        using (var ro = RawClient.Ready(_host.Path, out ulong h, oflags: 0))
        {
            Assert.Equal((int)Errno.EACCES, ro.Request(b => new MmapRequest(h, 0, page, 3, 1).Write(b, 1))); // shared write needs FWRITE
            Assert.Equal(0, ro.Request(b => new MmapRequest(h, 0, page, 1, 1).Write(b, 1)));
        }
        using (var wo = RawClient.Ready(_host.Path, out ulong h, oflags: 1))
            Assert.Equal((int)Errno.EACCES, wo.Request(b => new MmapRequest(h, 0, page, 2, 1).Write(b, 1))); // no FREAD
    }
}
