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
/// <remarks>
/// The MUNMAP of a disposed mapping is sent with the no-reply bit (docs/protocol.md): the range is already gone
/// here, and munmap(2) has nothing to report that the caller could act on. The host handles it before this
/// connection's next request, so the driver has seen the unmap before anything the application asks next.
/// </remarks>
internal sealed class UmemConnection
{
    // The message buffers belong to the calling thread: a request is written, sent and answered under the lock on
    // one thread, so a connection holds no 64 KiB buffers of its own (a process may keep many devices open).
    [ThreadStatic] private static byte[]? t_send;
    [ThreadStatic] private static byte[]? t_receive;

    private readonly SeqPacketChannel _channel;
    private readonly Lock _gate = new();
    private bool _closed;
    private readonly List<SafeFd> _fds = new(4);
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

    /// <summary>The fd of the socket (for tests that speak raw syscalls beside the library).</summary>
    internal SafeHandle Handle => _channel.Handle;

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
        if (Interlocked.Decrement(ref _references) != 0) return;
        lock (_gate)
        {
            _closed = true;
            _channel.Dispose();
        }
    }

    private static byte[] SendBuffer => t_send ??= GC.AllocateUninitializedArray<byte>(Wire.MaxMessage);

    private static byte[] ReceiveBuffer => t_receive ??= GC.AllocateUninitializedArray<byte>(Wire.MaxMessage);

    private void Hello()
    {
        var call = new CallInfo("HELLO({0})", Path);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new HelloRequest(Wire.Version, Wire.Version).Write(SendBuffer, seq), default, call);
            var reply = ReceiveReply(MessageType.Hello, seq, null, call);
            Check(HelloReply.TryRead(reply, out var hello), call);
            if (hello.Version != Wire.Version || hello.PageSize != (uint)SystemPage.Size)
                throw Broken(Errno.EPROTO, call, $"the host speaks version {hello.Version} with {hello.PageSize}-byte pages");
            Version = hello.Version;
            PageSize = (int)hello.PageSize;
        }
    }

    internal ulong Open(uint oflags, in CallInfo call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new OpenRequest(oflags).Write(SendBuffer, seq), default, call);
            var reply = ReceiveReply(MessageType.Open, seq, null, call);
            Check(OpenReply.TryRead(reply, out var open), call);
            return open.Handle;
        }
    }

    /// <summary>CLOSE or UNREGISTER, waiting for the reply.</summary>
    internal void SendIdRequest(MessageType type, ulong id, in CallInfo call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new IdRequest(type, id).Write(SendBuffer, seq), default, call);
            ExpectEmpty(ReceiveReply(type, seq, null, call), call);
        }
    }

    /// <summary>
    /// MMAP, then maps what the reply describes: one fd per segment (from the reply and any MMAP_MORE), each
    /// mapped MAP_FIXED into a reserved range (a single segment maps directly) with <paramref name="prot"/>. The fds
    /// are closed before this returns; on any failure the host is told to forget the mapping.
    /// </summary>
    internal MappedView Mmap(ulong handle, long offset, long length, int prot, int kind, in CallInfo call, out ulong mapping)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new MmapRequest(handle, (ulong)offset, (ulong)length, (uint)prot, (uint)kind).Write(SendBuffer, seq), default, call);
            var m = ReceiveMmapReply(seq, (ulong)length, call);
            mapping = m.Mapping;
            try
            {
                return MapSegments(m, prot, kind, call);
            }
            catch (ErrnoException) when (!_broken)
            {
                // Mapped nothing here: the host must forget it too.
                Send(new MunmapRequest(m.Mapping, 0, (ulong)length).Write(SendBuffer, ++_seq, noReply: true), default, call);
                throw;
            }
            finally
            {
                foreach (var fd in _fds) fd.Dispose(); // the mappings keep the memory
                _fds.Clear();
            }
        }
    }

    private MmapReply ReceiveMmapReply(uint seq, ulong length, in CallInfo call)
    {
        var reply = ReceiveReply(MessageType.Mmap, seq, _fds, call);
        Check(MmapReply.TryRead(reply, PageSize, out var m), call);
        if (m.Length != length) throw Broken(Errno.EBADMSG, call, $"the host mapped {m.Length} bytes, not {length}");
        if (_fds.Count != m.FdsInFirstReply)
            throw Broken(Errno.EBADMSG, call, $"the reply carried {_fds.Count} fds for {m.SegmentCount} segments");
        if (m.SegmentCount > (uint)_fds.Count)
        {
            // The segments must survive the MMAP_MORE receives into the same buffer.
            var segments = ReceiveBuffer.AsSpan(MmapReply.FixedSize, (int)m.SegmentCount * Wire.SegmentSize).ToArray();
            while (_fds.Count < (int)m.SegmentCount)
            {
                int before = _fds.Count;
                var more = ReceiveReply(MessageType.MmapMore, seq, _fds, call);
                Check(MmapMore.TryRead(more, out var mm), call);
                if (mm.First != (uint)before || _fds.Count - before != (int)mm.Count || _fds.Count > (int)m.SegmentCount)
                    throw Broken(Errno.EBADMSG, call, $"MMAP_MORE brought fds {mm.First}+{_fds.Count - before}, expected from {before}");
            }
            segments.CopyTo(ReceiveBuffer.AsSpan(MmapReply.FixedSize));
        }
        return m;
    }

    private MappedView MapSegments(in MmapReply m, int prot, int kind, in CallInfo call)
    {
        long length = (long)m.Length;
        bool shared = kind == Wire.MapShared;
        var first = MmapReply.ReadSegment(ReceiveBuffer, 0);
        if (m.SegmentCount == 1)
        {
            CheckProt(first, prot, call);
            Errno e = AddressSpace.TryMap(_fds[(int)first.FdIndex], (long)first.FdOffset, length, prot, shared, out nint p);
            return e != Errno.None
                ? throw new ErrnoException(e, call.ToString(), $"mmap of the segment: {e.Describe()}")
                : new MappedView(p, length);
        }
        var reserved = MappedRegion.Reserve(length);
        try
        {
            for (int i = 0; i < (int)m.SegmentCount; i++)
            {
                var s = MmapReply.ReadSegment(ReceiveBuffer, i);
                CheckProt(s, prot, call);
                nint at = reserved.Address + (nint)s.Offset;
                Errno e = AddressSpace.TryMapFixed(at, (long)s.Length, prot, shared, _fds[(int)s.FdIndex], (long)s.FdOffset);
                if (e != Errno.None)
                    throw new ErrnoException(e, call.ToString(), $"mmap of segment {i} at offset {s.Offset}: {e.Describe()}");
            }
            var view = new MappedView(reserved.Address, length);
            reserved.SetHandleAsInvalid(); // the view owns the range now
            return view;
        }
        finally
        {
            reserved.Dispose();
        }
    }

    private static void CheckProt(in MmapSegment s, int prot, in CallInfo call)
    {
        if ((prot & ~(int)s.MaxProt) != 0)
            throw new ErrnoException(Errno.EACCES, call.ToString(), $"the segment at {s.Offset} allows only {FormatProt((int)s.MaxProt)}");
    }

    /// <summary>MUNMAP, waiting for the reply (errors are the caller's).</summary>
    internal void Munmap(ulong mapping, ulong offset, ulong length, in CallInfo call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new MunmapRequest(mapping, offset, length).Write(SendBuffer, seq), default, call);
            ExpectEmpty(ReceiveReply(MessageType.Munmap, seq, null, call), call);
        }
    }

    /// <summary>MUNMAP of a whole mapping with the no-reply bit. Silent when the host is gone.</summary>
    internal void MunmapNoReply(ulong mapping, ulong length, in CallInfo call)
    {
        lock (_gate)
        {
            if (_broken || _closed) return;
            try
            {
                Send(new MunmapRequest(mapping, 0, length).Write(SendBuffer, NextSeq(), noReply: true), default, call);
            }
            catch (ErrnoException)
            {
                // The host is gone: it released the mapping with the connection.
            }
        }
    }

    internal UmemIoctlResult Ioctl(ulong handle, uint cmd, ReadOnlySpan<byte> input, Span<byte> output, in CallInfo call)
    {
        if (input.Length > Wire.MaxIoctlData) throw new ArgumentOutOfRangeException(nameof(input), input.Length, $"ioctl input is limited to {Wire.MaxIoctlData} bytes");
        int outMax = Math.Min(output.Length, Wire.MaxIoctlData);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new IoctlRequest(handle, cmd, (uint)outMax, (uint)input.Length).Write(SendBuffer, seq, input), default, call);
            var reply = ReceiveReply(MessageType.Ioctl, seq, null, call);
            Check(IoctlReply.TryRead(reply, (uint)outMax, out var r), call);
            IoctlReply.Output(reply).CopyTo(output);
            return new UmemIoctlResult(r.Rval, (int)r.OutLength);
        }
    }

    internal ulong Register(ulong address, ulong length, SafeFd memfd, in CallInfo call)
    {
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new RegisterRequest(address, length, 0).Write(SendBuffer, seq), [memfd], call);
            var reply = ReceiveReply(MessageType.Register, seq, null, call);
            Check(RegisterReply.TryRead(reply, out var r), call);
            return r.Buffer;
        }
    }

    private uint NextSeq()
    {
        ObjectDisposedException.ThrowIf(_closed, this); // every request starts here, under the lock
        return ++_seq;
    }

    private void Send(int length, ReadOnlySpan<SafeFd> fds, in CallInfo call)
    {
        if (_broken) throw new ErrnoException(Errno.ECONNRESET, call.ToString(), "the connection to the device host is broken");
        try
        {
            _channel.Send(SendBuffer.AsSpan(0, length), fds);
        }
        catch (ErrnoException e)
        {
            _broken = true;
            throw new ErrnoException(e.Errno, call.ToString(), $"the device host is gone: {e.Message}");
        }
    }

    /// <summary>Receives the reply to (type, seq); throws the host's errno, or EPROTO/EBADMSG for a reply that is not one.</summary>
    private ReadOnlySpan<byte> ReceiveReply(MessageType type, uint seq, List<SafeFd>? fds, in CallInfo call)
    {
        var reply = ReceiveReplyOrErrno(type, seq, fds, call, out int errno);
        return errno != 0 ? throw new ErrnoException((Errno)errno, call.ToString()) : reply;
    }

    private ReadOnlySpan<byte> ReceiveReplyOrErrno(MessageType type, uint seq, List<SafeFd>? fds, in CallInfo call, out int errno)
    {
        ReceiveResult r;
        try
        {
            r = _channel.Receive(ReceiveBuffer.AsSpan(0, Wire.MaxMessage), fds);
        }
        catch (ErrnoException e)
        {
            _broken = true;
            throw new ErrnoException(e.Errno, call.ToString(), $"the device host is gone: {e.Message}");
        }
        return CheckReceived(r, type, seq, call, out errno);
    }

    private ReadOnlySpan<byte> CheckReceived(ReceiveResult r, MessageType type, uint seq, in CallInfo call, out int errno)
    {
        if (r.EndOfStream) throw Broken(Errno.ECONNRESET, call, "the device host closed the connection");
        if (r.Truncated || r.ControlTruncated) throw Broken(Errno.EMSGSIZE, call, "the reply was truncated");
        var reply = ReceiveBuffer.AsSpan(0, r.Length);
        var error = Reply.TryReadPrefix(reply, type, seq, out errno);
        if (error != Errno.None) throw Broken((Errno)(int)error, call, $"not a valid {type} reply to seq {seq}");
        return reply;
    }

    private void ExpectEmpty(ReadOnlySpan<byte> reply, in CallInfo call)
    {
        if (reply.Length != Wire.ReplyPrefixSize) throw Broken(Errno.EBADMSG, call, $"a {reply.Length}-byte reply where 20 belong");
    }

    private void Check(Errno error, in CallInfo call)
    {
        if (error != Errno.None) throw Broken((Errno)(int)error, call, "the device host sent a malformed reply");
    }

    /// <summary>A reply this side cannot trust: the stream may be out of step, so the connection is not used again.</summary>
    private ErrnoException Broken(Errno errno, in CallInfo call, string detail)
    {
        _broken = true;
        return new ErrnoException(errno, call.ToString(), detail);
    }

    private static readonly string[] s_prot =
    [
        "PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_READ|PROT_WRITE", "PROT_EXEC", "PROT_READ|PROT_EXEC",
        "PROT_WRITE|PROT_EXEC", "PROT_READ|PROT_WRITE|PROT_EXEC",
    ];

    internal static string FormatProt(int prot) => (uint)prot < 8 ? s_prot[prot] : $"0x{prot:x}";

    internal static string FormatOFlags(uint oflags) => oflags switch
    {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => $"0x{oflags:x}",
    };
}
