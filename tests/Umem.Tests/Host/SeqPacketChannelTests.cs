using System.IO.Pipes;
using System.Net.Sockets;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>The SEQPACKET transport: message boundaries, SCM_RIGHTS both ways, truncation, credentials, readiness.</summary>
public sealed class SeqPacketChannelTests
{
    [Fact]
    public unsafe void AnFdSentIsTheSameMemory()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        using (var memfd = MemFd.CreateSealed("chan", SystemPage.Size))
        using (var mine = MappedRegion.MapShared(memfd, 0, SystemPage.Size, Interop.PROT_READ | Interop.PROT_WRITE))
        {
            a.Send([1, 2, 3], [memfd]);
            var fds = new List<SafeFd>();
            var buf = new byte[16];
            var r = b.Receive(buf, fds);
            Assert.Equal((3, 1, false, false), (r.Length, r.FdCount, r.Truncated, r.ControlTruncated));
            Assert.Single(fds);
            Assert.NotEqual(memfd.Fd, fds[0].Fd);
            Assert.Equal(Interop.FD_CLOEXEC, Interop.fcntl(fds[0], Interop.F_GETFD, 0) & Interop.FD_CLOEXEC); // MSG_CMSG_CLOEXEC
            using var theirs = MappedRegion.MapShared(fds[0], 0, SystemPage.Size, Interop.PROT_READ | Interop.PROT_WRITE);
            *(byte*)mine.Address = 0x77;
            Assert.Equal(0x77, *(byte*)theirs.Address);
            fds[0].Dispose();
        }
    }

    [Fact]
    public void MessagesKeepTheirBoundariesAndTruncationIsReported()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        {
            a.Send(new byte[100]);
            a.Send([9]);
            var small = new byte[10];
            var r = b.Receive(small, null);
            Assert.True(r.Truncated);
            Assert.Equal(10, r.Length);
            r = b.Receive(small, null);
            Assert.Equal((1, false), (r.Length, r.Truncated)); // the rest of the first message is gone, the second intact
            Assert.Equal(9, small[0]);
            Assert.False(b.TryReceive(small, null, out _)); // nothing queued: EAGAIN, no wait
        }
    }

    [Fact]
    public async Task UnwantedFdsAreClosedAtOnce()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        using (var pipe = new AnonymousPipeServerStream(PipeDirection.In))
        {
            // Send the pipe's write end; once the receiver closes its copy and we close ours, the read end sees EOF.
            using (var writeEnd = new SafeFd((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false))
                a.Send([1], [writeEnd, writeEnd]);
            pipe.DisposeLocalCopyOfClientHandle();
            var r = b.Receive(new byte[4], fds: null);
            Assert.Equal(2, r.FdCount);
            int n = await pipe.ReadAsync(new byte[1], TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(0, n);
        }
    }

    [Fact]
    public void TwoMessagesWithOneReceive()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        using (var memfd = MemFd.CreateSealed("two", SystemPage.Size))
        {
            a.Send([1, 2]);
            a.Send([3, 4, 5], [memfd]);
            var first = new byte[8];
            var second = new byte[8];
            var fds = new List<SafeFd>();
            b.ReceiveTwo(first, null, second, fds, out var r1, out var r2);
            Assert.Equal((2, 0, 3, 1), (r1.Length, r1.FdCount, r2.Length, r2.FdCount));
            Assert.Equal([1, 2, 3, 4, 5], first[..2].Concat(second[..3]));
            Assert.Single(fds);
            fds[0].Dispose();
            a.Send([6]);
            a.Dispose();
            b.ReceiveTwo(first, null, second, null, out r1, out r2);
            Assert.Equal((1, true), (r1.Length, r2.EndOfStream)); // the peer left after one
        }
    }

    [Fact]
    public void PeerCredentialsComeFromTheKernel()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        {
            var c = b.GetPeerCredentials();
            Assert.Equal(new PeerCredentials(Environment.ProcessId, ProcessHardening.EffectiveUid, ProcessHardening.EffectiveGid), c);
        }
    }

    [Fact]
    public void AGonePeerIsEndOfStreamOrEpipe()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (b)
        {
            a.Dispose();
            Assert.True(b.Receive(new byte[4], null).EndOfStream);
            var e = Assert.Throws<ErrnoException>(() => b.Send([1]));
            Assert.Equal(Errno.EPIPE, e.Errno);
        }
    }

    [Fact]
    public async Task AZeroByteWaitDoesNotConsumeTheMessage()
    {
        string dir = TestHost.NewDirectory();
        try
        {
            string path = Path.Combine(dir, "s");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            using var client = SeqPacketChannel.Connect(path);
            using var server = new SeqPacketChannel(await listener.AcceptAsync(TestContext.Current.CancellationToken));
            var wait = server.WaitReadableAsync(TestContext.Current.CancellationToken);
            Assert.False(wait.IsCompleted);
            using var memfd = MemFd.CreateSealed("wait", SystemPage.Size);
            client.Send([5, 6, 7], [memfd]);
            await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            var fds = new List<SafeFd>();
            Assert.True(server.TryReceive(new byte[8], fds, out var r));
            Assert.Equal((3, 1), (r.Length, fds.Count)); // the record and its fd are intact after the wait
            fds[0].Dispose();
            client.Dispose();
            await server.WaitReadableAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.True(server.TryReceive(new byte[8], null, out r));
            Assert.True(r.EndOfStream);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ConnectToNothingNamesTheErrno()
    {
        var e = Assert.Throws<ErrnoException>(() => SeqPacketChannel.Connect("/nonexistent/umem/node"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("connect(\"/nonexistent/umem/node\")", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ErrnoException>(() => SeqPacketChannel.Connect("/" + new string('x', 200)));
        Assert.Equal(Errno.ENAMETOOLONG, e.Errno);
    }

    [Fact]
    public void HardeningCalls()
    {
        var (before, after) = ProcessHardening.RaiseFileLimit();
        Assert.True(after >= before);
        // Setting non-dumpable is process-wide; the host tests do it. Here: the getter works.
        _ = ProcessHardening.IsDumpable;
    }
}
