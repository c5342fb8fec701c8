using System.Buffers.Binary;
using System.IO.Pipes;
using Umem.Host;
using Umem.Platform;
using Umem.Protocol;
using Umem.TestDrivers;
using Umem.Tests.Model;

namespace Umem.Tests.Host;

/// <summary>
/// Every failure path of every request leaves the kernel and the host as they were (issue 12): one row per (request,
/// failure), each run against a real host over a real socket. The state compared is the kernel's mappings, the
/// driver's opens, the allocator's cookies and memfds, registered buffers and bytes, locked bytes (the processes' and
/// the zone's), what the host counts for the client's uid and in descriptors, and this process's descriptors but assembly files (the
/// host's, the client being this process too). A refusal that goes on is compared with the state just before the
/// request; one that ends the connection (and a client that dies mid-request) with the state before it connected.
/// docs/reliability.md lists these rows beside the tests that cover the others.
/// </summary>
[Collection(nameof(ModelCollection))] // alone: this process's descriptors are part of the state
public sealed class RequestFailureTests
{
    private static readonly ulong Page = (ulong)SystemPage.Size;
    private const ulong BufferAddress = 0x10000000;

    /// <summary>What a row does after the client is set up (HELLO, OPEN O_RDWR, a read-write MMAP of page 0, a REGISTER of one page).</summary>
    private sealed record Row(Func<Client, int> Request, Errno Expected, bool Ends = false, DeviceHostOptions? Options = null);

    /// <summary>The set-up client: its raw connection and the ids it holds.</summary>
    internal sealed record Client(RawClient Raw, ulong Handle, ulong Mapping, ulong Buffer);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["HELLO again"] = new(c => c.Raw.Request(b => new HelloRequest(1, 1).Write(b, 9)), Errno.EPROTO, Ends: true),
        ["any request with a bad header (HELLO)"] = new(c => c.Raw.Send([.. Bytes(b => new HelloRequest(1, 1).Write(b, 9)), 0]), Errno.EBADMSG, Ends: true),
        ["OPEN bad flags"] = new(c => c.Raw.Request(b => new OpenRequest(3).Write(b, 9)), Errno.EINVAL),
        ["OPEN limit per connection"] = new(c => c.Raw.Request(b => new OpenRequest(2).Write(b, 9)), Errno.EMFILE, Options: new() { MaxOpensPerConnection = 1 }),
        ["OPEN with an fd"] = new(c => WithFd(c, b => new OpenRequest(2).Write(b, 9)), Errno.EBADMSG),
        ["CLOSE bad id"] = new(c => c.Raw.Request(b => new IdRequest(MessageType.Close, c.Handle + 50).Write(b, 9)), Errno.EBADF),
        ["CLOSE wrong size"] = new(c => c.Raw.Send(Grown(Bytes(b => new IdRequest(MessageType.Close, c.Handle).Write(b, 9)))), Errno.EBADMSG),
        ["MMAP bad id"] = new(c => Map(c, c.Handle + 50, 0, Page, 3), Errno.EBADF),
        ["MMAP unaligned"] = new(c => Map(c, c.Handle, 1, Page, 3), Errno.EINVAL),
        ["MMAP driver refuses (past the device)"] = new(c => Map(c, c.Handle, 4 * Page, Page, 1), Errno.ENXIO),
        ["MMAP driver refuses (above maxprot)"] = new(c => Map(c, c.Handle, 2 * Page, Page, 3), Errno.ENXIO),
        ["MMAP limit per connection"] = new(c => Map(c, c.Handle, Page, Page, 3), Errno.ENOMEM, Options: new() { MaxMappingsPerConnection = 1 }),
        ["MUNMAP bad id"] = new(c => c.Raw.Request(b => new MunmapRequest(c.Mapping + 50, 0, Page).Write(b, 9)), Errno.EBADF),
        ["MUNMAP outside the mapping"] = new(c => c.Raw.Request(b => new MunmapRequest(c.Mapping, 0, 2 * Page).Write(b, 9)), Errno.EINVAL),
        ["MUNMAP no-reply refused"] = new(c => NoReply(c, new MunmapRequest(c.Mapping + 50, 0, Page)), Errno.EBADF, Ends: true),
        ["IOCTL bad id"] = new(c => c.Raw.Request(b => new IoctlRequest(c.Handle + 50, TestDeviceDriver.IoctlEcho, 8, 2).Write(b, 9, [1, 2])), Errno.EBADF),
        ["IOCTL driver refuses"] = new(c => c.Raw.Request(b => new IoctlRequest(c.Handle, TestDeviceDriver.IoctlFail, 0, 4).Write(b, 9, [22, 0, 0, 0])), Errno.EINVAL),
        ["IOCTL driver's lock refused (outside the buffer)"] = new(c => BufferFill(c, BufferAddress + Page, 16), Errno.EFAULT),
        ["IOCTL out_max too large"] = new(c => c.Raw.Send(OutMax(Bytes(b => new IoctlRequest(c.Handle, TestDeviceDriver.IoctlEcho, 0, 0).Write(b, 9, [])), 60001)), Errno.EINVAL),
        ["REGISTER not a memfd"] = new(RegisterPipe, Errno.EINVAL),
        ["REGISTER shorter than the range"] = new(c => Register(c, 2 * Page), Errno.EINVAL),
        ["REGISTER without an fd"] = new(c => c.Raw.Request(b => new RegisterRequest(BufferAddress, Page, 0).Write(b, 9)), Errno.EBADMSG),
        ["REGISTER buffers per connection"] = new(c => Register(c, Page), Errno.ENOMEM, Options: new() { MaxBuffersPerConnection = 1 }),
        ["REGISTER bytes per connection"] = new(c => Register(c, Page), Errno.ENOMEM, Options: new() { MaxRegisteredBytesPerConnection = (long)Page }),
        ["UNREGISTER bad id"] = new(c => c.Raw.Request(b => new IdRequest(MessageType.Unregister, c.Buffer + 50).Write(b, 9)), Errno.EBADF),
        ["MMAP, client gone before the reply"] = new(c => Gone(c, Bytes(b => new MmapRequest(c.Handle, Page, Page, 3, 1).Write(b, 9))), Errno.None, Ends: true),
        ["REGISTER, client gone before the reply"] = new(c => GoneAfterRegister(c), Errno.None, Ends: true),
        ["IOCTL locking, client gone before the reply"] = new(c => Gone(c, Bytes(b => BufferFillRequest(b, c.Handle, BufferAddress, 16))), Errno.None, Ends: true),
    };

    public static TheoryData<string> Names => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task AFailedRequestLeavesTheStateAsItWas(string name)
    {
        var row = Rows[name];
        await using var host = TestHost.Start(options: row.Options);
        var empty = Stable(host);
        using var raw = RawClient.Ready(host.Path, out ulong handle);
        var client = SetUp(raw, handle);
        var before = Stable(host);

        int errno = row.Request(client);
        if (row.Expected != Errno.None) Assert.Equal((int)row.Expected, errno);
        if (row.Ends)
        {
            Assert.True(errno == -1 || raw.IsClosedByHost(), "the connection ends");
            raw.Dispose();
            Settled(host, empty);
            return;
        }
        Settled(host, before);
        Assert.True(raw.StillServed(handle)); // and the connection goes on
    }

    [Fact]
    public async Task AMappingBeyondTheDescriptorReserveIsEnfileAndLeavesNothing()
    {
        // A reserve that leaves nobody about 600 of this process's descriptors once the device's 1,200 page-unit
        // memfds are made: a connection fits, a mapping of its 1,200 read-only pages (one reopened descriptor each)
        // does not, one of 10 does.
        var (_, limit) = ProcessHardening.RaiseFileLimit();
        int open = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        int reserve = checked((int)Math.Min(int.MaxValue, (long)limit - open - 1200 - 600));
        await using var host = TestHost.Start(maxProt: [.. Enumerable.Repeat(1, 1200)], options: new DeviceHostOptions { FdReserve = reserve });
        using var nobody = ChildProcess.StartTestApp(65534, "client");
        nobody.Ok($"open {host.Path} r");
        var before = Stable(host);
        Assert.StartsWith("err ENFILE", nobody.Command($"map 0 {1200 * Page} r"), StringComparison.Ordinal);
        Settled(host, before);
        Assert.Equal("0", nobody.Ok($"map 0 {10 * Page} r"));
        Assert.Equal(1, host.LiveMappings);
    }

    private static Client SetUp(RawClient raw, ulong handle)
    {
        Assert.Equal(0, Map(raw, handle, 0, Page, 3));
        ulong mapping = BinaryPrimitives.ReadUInt64LittleEndian(raw.LastReply.AsSpan(Wire.ReplyPrefixSize));
        var c = new Client(raw, handle, mapping, 0);
        Assert.Equal(0, Register(c, Page));
        ulong buffer = BinaryPrimitives.ReadUInt64LittleEndian(raw.LastReply.AsSpan(Wire.ReplyPrefixSize));
        Assert.True(raw.StillServed(handle)); // the mapping's fds received are closed now
        return c with { Buffer = buffer };
    }

    private static int Map(Client c, ulong handle, ulong offset, ulong length, uint prot) => Map(c.Raw, handle, offset, length, prot);

    private static int Map(RawClient raw, ulong handle, ulong offset, ulong length, uint prot) =>
        raw.Request(b => new MmapRequest(handle, offset, length, prot, 1).Write(b, raw.NextSeq));

    private static int Register(Client c, ulong length)
    {
        using var memfd = MemFd.CreateSealed("row", (long)Page);
        ulong address = c.Buffer == 0 ? BufferAddress : BufferAddress + (16 * Page); // the set-up's, then another range
        return c.Raw.Request(b => new RegisterRequest(address, length, 0).Write(b, c.Raw.NextSeq), memfd);
    }

    private static int RegisterPipe(Client c)
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using var notMemfd = new SafeFd((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        return c.Raw.Request(b => new RegisterRequest(BufferAddress, Page, 0).Write(b, 9), notMemfd);
    }

    private static int WithFd(Client c, Func<byte[], int> write)
    {
        using var memfd = MemFd.CreateSealed("extra", (long)Page);
        return c.Raw.Request(write, memfd);
    }

    private static int BufferFillRequest(byte[] b, ulong handle, ulong address, int length)
    {
        byte[] input = new byte[13];
        BinaryPrimitives.WriteUInt64LittleEndian(input, address);
        BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(8), length);
        input[12] = 7;
        return new IoctlRequest(handle, TestDeviceDriver.IoctlBufferFill, 0, 13).Write(b, 9, input);
    }

    private static int BufferFill(Client c, ulong address, int length) => c.Raw.Request(b => BufferFillRequest(b, c.Handle, address, length));

    private static int NoReply(Client c, MunmapRequest request) =>
        c.Raw.Send(Bytes(b => request.Write(b, 9, noReply: true)));

    /// <summary>Sends a request and closes the socket at once, as a client killed mid-request does; the host may be anywhere in it.</summary>
    private static int Gone(Client c, byte[] request)
    {
        c.Raw.SendOnly(request);
        c.Raw.Dispose();
        return -1;
    }

    private static int GoneAfterRegister(Client c)
    {
        using var memfd = MemFd.CreateSealed("gone", (long)Page);
        c.Raw.SendOnly(Bytes(b => new RegisterRequest(BufferAddress + Page, Page, 0).Write(b, 9)), memfd);
        c.Raw.Dispose();
        return -1;
    }

    /// <summary>The message one byte longer, its header saying so: a well-framed request of the wrong size.</summary>
    private static byte[] Grown(byte[] message)
    {
        byte[] grown = [.. message, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(grown.AsSpan(8), (uint)grown.Length);
        return grown;
    }

    private static byte[] Bytes(Func<byte[], int> write)
    {
        var b = new byte[Wire.MaxMessage];
        return b.AsSpan(0, write(b)).ToArray();
    }

    /// <summary>The state once nothing from before is still closing (an earlier host's descriptors, finalizable handles).</summary>
    private static State Stable(TestHost host)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var last = State.Of(host);
        for (int i = 0; i < 100; i++)
        {
            Thread.Sleep(20);
            var now = State.Of(host);
            if (now == last) return now;
            last = now;
        }
        return last;
    }

    /// <summary>An IOCTL request whose out_max field says <paramref name="outMax"/>.</summary>
    private static byte[] OutMax(byte[] request, uint outMax)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(28), outMax);
        return request;
    }

    /// <summary>Waits until the host's state is <paramref name="expected"/> (a connection's end is released on the host's time); returns it.</summary>
    private static State Settled(TestHost host, State expected)
    {
        State now = expected;
        try
        {
            Eventually.WaitUntil(() => (now = State.Of(host)) == expected, "the state as it was", TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Equal(expected, now); // names the part that differs
        }
        return now;
    }

    /// <summary>The state a failed request must leave as it was.</summary>
    private sealed record State(int Connections, int Mappings, long DriverOpens, long Cookies, long Memfds, int Buffers, long RegisteredBytes,
        long ProcessLocked, ulong ZoneLocked, long UidOpens, long UidMappings, long UidRegistered, long HostFdsHeld, int Fds)
    {
        internal static State Of(TestHost host)
        {
            var sessions = host.Host.Sessions;
            var stats = host.Umemd.Allocator.GetStatistics();
            uint uid = ProcessHardening.EffectiveUid;
            return new State(host.Host.ConnectionCount, host.LiveMappings, host.Driver.LiveOpens, stats.PageableCount + stats.LockedCount, stats.Memfds,
                host.LiveBuffers, sessions.Sum(s => s.Process.Buffers.Sum(b => b.Length)), sessions.Sum(s => s.Process.LockedBytes),
                host.Umemd.ResourceControls.GetZone(0).LockedMemory.Usage, host.Host.HeldByUid(uid, UidHolding.Opens),
                host.Host.HeldByUid(uid, UidHolding.Mappings), host.Host.HeldByUid(uid, UidHolding.RegisteredBytes), host.Host.FdReserve.Held,
                Attacks.FloodHostProcess.CountFds(Environment.ProcessId)); // but assembly files, opened for good on first use
        }
    }
}
