using System.Runtime.InteropServices;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Client;

/// <summary>
/// One SEQPACKET connection to a device node. Requests are serialised by a lock held from send to reply, so any
/// number of threads may share a device; the host answers a connection's requests in order anyway, so a receive
/// loop would add no parallelism, only a thread. The connection is reference counted: the device and every
/// mapping or buffer made through it hold it open (an fd's mappings outlive close(2)), and the socket closes
/// with the last of them, which makes the host release everything still held.
/// </summary>
internal sealed class UmemConnection
{
    private readonly SeqPacketChannel _channel;
    private readonly Lock _gate = new();
    private readonly byte[] _send = new byte[Wire.MaxMessage];
    private readonly byte[] _receive = new byte[Wire.MaxMessage];
    private int _references = 1;
    private uint _seq;
    private bool _broken;

    private UmemConnection(SeqPacketChannel channel, string path)
    {
        _channel = channel;
        Path = path;
    }

    internal string Path { get; }

    internal int PageSize { get; private set; }

    internal ushort Version { get; private set; }

    /// <summary>connect(2) and HELLO.</summary>
    internal static UmemConnection Connect(string path)
    {
        var connection = new UmemConnection(SeqPacketChannel.Connect(path), path);
        try
        {
            connection.Hello();
            return connection;
        }
        catch
        {
            connection.Release();
            throw;
        }
    }

    internal bool TryAddReference()
    {
        int r = Volatile.Read(ref _references);
        while (r > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, r + 1, r);
            if (seen == r) return true;
            r = seen;
        }
        return false;
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) _channel.Dispose();
    }

    private void Hello()
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new HelloRequest(Wire.Version, Wire.Version).Write(_send, seq), "HELLO");
            var reply = ReceiveReply(MessageType.Hello, seq, null, "HELLO");
            Check(HelloReply.TryRead(reply, out var hello), "HELLO");
            if (hello.Version != Wire.Version || hello.PageSize != (uint)SystemPage.Size)
                throw Broken(Errno.EPROTO, "HELLO", $"the host speaks version {hello.Version} with {hello.PageSize}-byte pages");
            Version = hello.Version;
            PageSize = (int)hello.PageSize;
        }
    }

    internal ulong Open(uint oflags)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            string call = $"open(\"{Path}\", {FormatOFlags(oflags)})";
            Send(new OpenRequest(oflags).Write(_send, seq), call);
            var reply = ReceiveReply(MessageType.Open, seq, null, call);
            Check(OpenReply.TryRead(reply, out var open), call);
            return open.Handle;
        }
    }

    internal void SendIdRequest(MessageType type, ulong id, string call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new IdRequest(type, id).Write(_send, seq), call);
            ExpectEmpty(ReceiveReply(type, seq, null, call), call);
        }
    }

    /// <summary>MMAP: the reply and exactly one fd per segment (from the reply and any MMAP_MORE), in order.</summary>
    internal MmapReply Mmap(in MmapRequest request, List<SafeFd> fds, List<MmapSegment> segments, string call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(request.Write(_send, seq), call);
            var reply = ReceiveReply(MessageType.Mmap, seq, fds, call);
            Check(MmapReply.TryRead(reply, PageSize, out var m), call);
            if (m.Length != request.Length) throw Broken(Errno.EBADMSG, call, $"the host mapped {m.Length} bytes, not {request.Length}");
            for (int i = 0; i < (int)m.SegmentCount; i++) segments.Add(MmapReply.ReadSegment(reply, i));
            if (fds.Count != m.FdsInFirstReply)
                throw Broken(Errno.EBADMSG, call, $"the reply carried {fds.Count} fds for {m.SegmentCount} segments");
            while (fds.Count < (int)m.SegmentCount)
            {
                int before = fds.Count;
                var more = ReceiveReply(MessageType.MmapMore, seq, fds, call);
                Check(MmapMore.TryRead(more, out var mm), call);
                if (mm.First != (uint)before || fds.Count - before != (int)mm.Count || fds.Count > (int)m.SegmentCount)
                    throw Broken(Errno.EBADMSG, call, $"MMAP_MORE brought fds {mm.First}+{fds.Count - before}, expected from {before}");
            }
            return m;
        }
    }

    internal void Munmap(ulong mapping, ulong offset, ulong length, string call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new MunmapRequest(mapping, offset, length).Write(_send, seq), call);
            ExpectEmpty(ReceiveReply(MessageType.Munmap, seq, null, call), call);
        }
    }

    internal UmemIoctlResult Ioctl(ulong handle, uint cmd, ReadOnlySpan<byte> input, Span<byte> output, string call)
    {
        if (input.Length > Wire.MaxIoctlData) throw new ArgumentOutOfRangeException(nameof(input), input.Length, $"ioctl input is limited to {Wire.MaxIoctlData} bytes");
        int outMax = Math.Min(output.Length, Wire.MaxIoctlData);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new IoctlRequest(handle, cmd, (uint)outMax, (uint)input.Length).Write(_send, seq, input), call);
            var reply = ReceiveReply(MessageType.Ioctl, seq, null, call);
            Check(IoctlReply.TryRead(reply, (uint)outMax, out var r), call);
            IoctlReply.Output(reply).CopyTo(output);
            return new UmemIoctlResult(r.Rval, (int)r.OutLength);
        }
    }

    internal ulong Register(ulong address, ulong length, SafeFd memfd, string call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            int n = new RegisterRequest(address, length, 0).Write(_send, seq);
            SendWithFds(n, [memfd], call);
            var reply = ReceiveReply(MessageType.Register, seq, null, call);
            Check(RegisterReply.TryRead(reply, out var r), call);
            return r.Buffer;
        }
    }

    private uint NextSeq() => ++_seq;

    private void Send(int length, string call) => SendWithFds(length, default, call);

    private void SendWithFds(int length, ReadOnlySpan<SafeFd> fds, string call)
    {
        if (_broken) throw new ErrnoException(Errno.ECONNRESET, call, "the connection to the device host is broken");
        try
        {
            _channel.Send(_send.AsSpan(0, length), fds);
        }
        catch (ErrnoException e)
        {
            _broken = true;
            throw new ErrnoException(e.Errno, call, $"the device host is gone: {e.Message}");
        }
    }

    /// <summary>Receives the reply to (type, seq); throws the host's errno, or EPROTO/EBADMSG for a reply that is not one.</summary>
    private ReadOnlySpan<byte> ReceiveReply(MessageType type, uint seq, List<SafeFd>? fds, string call)
    {
        ReceiveResult r;
        try
        {
            r = _channel.Receive(_receive, fds);
        }
        catch (ErrnoException e)
        {
            _broken = true;
            throw new ErrnoException(e.Errno, call, $"the device host is gone: {e.Message}");
        }
        if (r.EndOfStream) throw Broken(Errno.ECONNRESET, call, "the device host closed the connection");
        if (r.Truncated || r.ControlTruncated) throw Broken(Errno.EMSGSIZE, call, "the reply was truncated");
        var reply = _receive.AsSpan(0, r.Length);
        var error = Reply.TryReadPrefix(reply, type, seq, out int errno);
        if (error != ProtocolError.None) throw Broken((Errno)(int)error, call, $"not a valid {type} reply to seq {seq}");
        if (errno != 0)
        {
            throw new ErrnoException((Errno)errno, call);
        }
        return reply;
    }

    private void ExpectEmpty(ReadOnlySpan<byte> reply, string call)
    {
        if (reply.Length != Wire.ReplyPrefixSize) throw Broken(Errno.EBADMSG, call, $"a {reply.Length}-byte reply where 20 belong");
    }

    private void Check(ProtocolError error, string call)
    {
        if (error != ProtocolError.None) throw Broken((Errno)(int)error, call, "the device host sent a malformed reply");
    }

    /// <summary>A reply this side cannot trust: the stream may be out of step, so the connection is not used again.</summary>
    private ErrnoException Broken(Errno errno, string call, string detail)
    {
        _broken = true;
        return new ErrnoException(errno, call, detail);
    }

    internal static string FormatOFlags(uint oflags) => oflags switch
    {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => $"0x{oflags:x}",
    };

    internal static string FormatProt(MapProtection prot) =>
        prot == MapProtection.None ? "PROT_NONE" : string.Join('|',
            new[] { (MapProtection.Read, "PROT_READ"), (MapProtection.Write, "PROT_WRITE"), (MapProtection.Exec, "PROT_EXEC") }
                .Where(p => (prot & p.Item1) != 0).Select(p => p.Item2));

    /// <summary>The fd of the socket (for tests that speak raw syscalls beside the library).</summary>
    internal SafeHandle Handle => _channel.Handle;
}
