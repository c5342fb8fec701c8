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
    private bool _noReplyPending; // no-reply MUNMAPs were sent since the last reply; the first had _noReplySeq
    private uint _noReplySeq;
    // The armed POLL of each handle (its seq) and, once its EVENT came, the events (EVENTs may precede any reply).
    private readonly Dictionary<ulong, (uint Seq, ushort Revents)> _armed = [];

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
            Send(new HelloRequest(Wire.MinVersion, Wire.Version).Write(SendBuffer, seq), default, call);
            var reply = ReceiveReply(MessageType.Hello, seq, null, call);
            Check(HelloReply.TryRead(reply, out var hello), call);
            if (hello.Version is < Wire.MinVersion or > Wire.Version || hello.PageSize != (uint)SystemPage.Size)
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
    /// MMAP, then maps what the reply describes: one fd per segment, each mapped MAP_FIXED into a reserved range (a
    /// single segment maps directly) with <paramref name="prot"/>, and MAP_POPULATE when <paramref name="populate"/>.
    /// Each message's segments are mapped and its fds closed before the next message (MMAP_MORE) is read, so no more
    /// than <see cref="Wire.MaxFds"/> received fds are open at once. A local failure (mmap, maxprot, fds the kernel
    /// dropped for RLIMIT_NOFILE) does not stop the receiving: the rest of the reply is read and its fds closed, so the
    /// connection stays in step, and the host is told to forget the mapping.
    /// </summary>
    internal MappedView Mmap(ulong handle, long offset, long length, int prot, int kind, bool populate, in CallInfo call, out ulong mapping)
    {
        lock (_gate)
        {
            EnsureFdRoom((int)Math.Min(length / PageSize, Wire.MaxFds), call);
            uint seq = NextSeq();
            Send(new MmapRequest(handle, (ulong)offset, (ulong)length, (uint)prot, (uint)kind).Write(SendBuffer, seq), default, call);
            var grant = new Grant(prot, kind == Wire.MapShared, populate);
            try
            {
                var m = ReceiveMmapReply(seq, (ulong)length, ref grant, call);
                mapping = m.Mapping;
                if (grant.Error is { } error)
                {
                    // Mapped nothing here: the host must forget it too.
                    Send(new MunmapRequest(m.Mapping, 0, (ulong)length).Write(SendBuffer, SentNoReply(NextSeq()), noReply: true), default, call);
                    throw error;
                }
                var view = new MappedView(grant.Base, length);
                grant.Reserved?.SetHandleAsInvalid(); // the view owns the range now
                grant.Base = 0;
                return view;
            }
            finally
            {
                foreach (var fd in _fds) fd.Dispose();
                _fds.Clear();
                if (grant.Base != 0 && grant.Reserved is null) _ = AddressSpace.Unmap(grant.Base, length);
                grant.Reserved?.Dispose();
            }
        }
    }

    /// <summary>An MMAP being received: how to map it, where it goes, and the first local failure (nothing is mapped after it).</summary>
    private struct Grant(int prot, bool shared, bool populate)
    {
        public readonly int Prot = prot;
        public readonly bool Shared = shared;
        public readonly bool Populate = populate;
        public MappedRegion? Reserved;
        public nint Base;
        public ErrnoException? Error;
    }

    private MmapReply ReceiveMmapReply(uint seq, ulong length, ref Grant grant, in CallInfo call)
    {
        var reply = ReceiveReply(MessageType.Mmap, seq, _fds, call, out bool dropped);
        Check(MmapReply.TryRead(reply, PageSize, out var m), call);
        if (m.Length != length) throw Broken(Errno.EBADMSG, call, $"the host mapped {m.Length} bytes, not {length}");
        if (!dropped && _fds.Count != m.FdsInFirstReply)
            throw Broken(Errno.EBADMSG, call, $"the reply carried {_fds.Count} fds for {m.SegmentCount} segments");
        // The segments must survive the MMAP_MORE receives into the same buffer.
        ReadOnlySpan<byte> segments = m.SegmentCount > (uint)m.FdsInFirstReply
            ? reply.Slice(MmapReply.FixedSize, (int)m.SegmentCount * Wire.SegmentSize).ToArray()
            : reply[MmapReply.FixedSize..];
        for (int i = 0; i < (int)m.SegmentCount && grant.Error is null; i++)
        {
            var s = MmapSegment.Read(segments.Slice(i * Wire.SegmentSize, Wire.SegmentSize));
            if ((grant.Prot & ~(int)s.MaxProt) != 0)
                grant.Error = new ErrnoException(Errno.EACCES, call.ToString(), $"the segment at {s.Offset} allows only {FormatProt((int)s.MaxProt)}");
        }
        MapBatch(ref grant, m, segments, 0, dropped, call);
        int sent = m.FdsInFirstReply; // with fds dropped, the host still sent the protocol's number
        while (sent < (int)m.SegmentCount)
        {
            var more = ReceiveReply(MessageType.MmapMore, seq, _fds, call, out dropped);
            Check(MmapMore.TryRead(more, out var mm), call);
            if (mm.First != (uint)sent || mm.Count > m.SegmentCount - (uint)sent || (dropped ? _fds.Count >= (int)mm.Count : _fds.Count != (int)mm.Count))
                throw Broken(Errno.EBADMSG, call, $"MMAP_MORE brought fds {mm.First}+{_fds.Count} (count {mm.Count}), expected from {sent}");
            MapBatch(ref grant, m, segments, sent, dropped, call);
            sent += (int)mm.Count;
        }
        return m;
    }

    /// <summary>
    /// Maps the segments whose fds are <see cref="_fds"/> (the reply's fds <paramref name="first"/>, ...) and closes
    /// those fds; after a failure, only closes them.
    /// </summary>
    private void MapBatch(ref Grant g, in MmapReply m, ReadOnlySpan<byte> segments, int first, bool dropped, in CallInfo call)
    {
        try
        {
            if (dropped)
                g.Error ??= new ErrnoException(Errno.EMFILE, call.ToString(), "the kernel dropped fds of the reply: no room under RLIMIT_NOFILE");
            if (g.Error is not null) return;
            long length = (long)m.Length;
            if (m.SegmentCount == 1)
            {
                var s = MmapSegment.Read(segments[..Wire.SegmentSize]);
                Errno e = AddressSpace.TryMap(_fds[(int)s.FdIndex], (long)s.FdOffset, length, g.Prot, g.Shared, out nint p, g.Populate);
                if (e != Errno.None)
                    g.Error = new ErrnoException(e, call.ToString(), $"mmap of the segment: {e.Describe()}");
                else
                    g.Base = p;
                return;
            }
            if (g.Reserved is null)
            {
                g.Reserved = MappedRegion.Reserve(length);
                g.Base = g.Reserved.Address;
            }
            for (int i = 0; i < (int)m.SegmentCount; i++)
            {
                var s = MmapSegment.Read(segments.Slice(i * Wire.SegmentSize, Wire.SegmentSize));
                long index = (long)s.FdIndex - first;
                if (index < 0 || index >= _fds.Count) continue;
                nint at = g.Base + (nint)s.Offset;
                Errno e = AddressSpace.TryMapFixed(at, (long)s.Length, g.Prot, g.Shared, _fds[(int)index], (long)s.FdOffset, g.Populate);
                if (e != Errno.None)
                {
                    g.Error = new ErrnoException(e, call.ToString(), $"mmap of segment {i} at offset {s.Offset}: {e.Describe()}");
                    return;
                }
            }
        }
        catch (ErrnoException e)
        {
            g.Error ??= e; // the reservation
        }
        finally
        {
            foreach (var fd in _fds) fd.Dispose(); // the mappings keep the memory
            _fds.Clear();
        }
    }

    /// <summary>
    /// Makes room for <paramref name="need"/> fds before a reply brings them: the kernel drops the fds of an SCM_RIGHTS
    /// message that do not fit under the soft RLIMIT_NOFILE (MSG_CTRUNC). Fds are numbered lowest-free first, so the
    /// lowest free one bounds what is open below it; past the soft limit, the soft limit is raised to the hard one
    /// (the .NET runtime already does that at start, but a host may lower it), past the hard one the map fails with
    /// EMFILE before anything is asked. Open fds above the lowest free one still count: MSG_CTRUNC covers that case.
    /// </summary>
    private void EnsureFdRoom(int need, in CallInfo call)
    {
        if (need <= 1) return; // without room for one, the kernel's MSG_CTRUNC says so
        int low;
        try
        {
            low = ProcessHardening.LowestFreeFd((SafeFd)_channel.Handle);
        }
        catch (ErrnoException e)
        {
            throw new ErrnoException(e.Errno, call.ToString(), $"no fd free for the reply's {need}");
        }
        if (!ProcessHardening.TryGetFileLimit(out ulong soft, out ulong hard))
            throw new ErrnoException(Errno.EINVAL, call.ToString(), "getrlimit(RLIMIT_NOFILE) failed");
        ulong want = (ulong)low + (ulong)need;
        if (want <= soft) return;
        if (want > hard)
            throw new ErrnoException(Errno.EMFILE, call.ToString(), $"a reply brings up to {need} fds; fd {low} is the lowest free and RLIMIT_NOFILE is {soft} (hard {hard})");
        _ = ProcessHardening.RaiseFileLimit();
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
                Send(new MunmapRequest(mapping, 0, length).Write(SendBuffer, SentNoReply(NextSeq()), noReply: true), default, call);
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

    /// <summary>
    /// READ or WRITE (version 2): at most 60000 bytes of <paramref name="buffer"/> (read into, or written from);
    /// <paramref name="offset"/> null is the file offset. Returns the bytes moved.
    /// </summary>
    internal int Transfer(MessageType type, ulong handle, Span<byte> buffer, long? offset, bool nonBlock, in CallInfo call)
    {
        if (Version < 2) throw new ErrnoException(Errno.EOPNOTSUPP, call.ToString(), $"the host speaks protocol version {Version}; READ and WRITE need 2");
        int length = Math.Min(buffer.Length, Wire.MaxIoData);
        uint flags = (offset is null ? 0 : IoRequest.AtOffset) | (nonBlock ? IoRequest.NonBlock : 0);
        var request = new IoRequest(type, handle, (ulong)(offset ?? 0), (uint)length, flags);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(request.Write(SendBuffer, seq, type == MessageType.Write ? buffer[..length] : default), default, call);
            var reply = ReceiveReply(type, seq, null, call);
            Check(IoReply.TryRead(reply, type, (uint)length, out var r), call);
            if (type == MessageType.Read) IoReply.Data(reply).CopyTo(buffer);
            return (int)r.Count;
        }
    }

    /// <summary>DUP_PREPARE (version 3): a one-time token for <paramref name="mapping"/>, for a child about to be forked.</summary>
    internal InheritToken DupPrepare(ulong mapping, in CallInfo call)
    {
        RequireForkVersion(call);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new IdRequest(MessageType.DupPrepare, mapping).Write(SendBuffer, seq), default, call);
            Check(DupPrepareReply.TryRead(ReceiveReply(MessageType.DupPrepare, seq, null, call), out var r), call);
            return r.Token;
        }
    }

    /// <summary>INHERIT (version 3): the token's mapping becomes this connection's, through open <paramref name="handle"/>.</summary>
    internal InheritReply Inherit(ulong handle, InheritToken token, in CallInfo call)
    {
        RequireForkVersion(call);
        lock (_gate)
        {
            uint seq = NextSeq();
            Send(new InheritRequest(handle, token).Write(SendBuffer, seq), default, call);
            Check(InheritReply.TryRead(ReceiveReply(MessageType.Inherit, seq, null, call), out var r), call);
            return r;
        }
    }

    private void RequireForkVersion(in CallInfo call)
    {
        if (Version < 3) throw new ErrnoException(Errno.EOPNOTSUPP, call.ToString(), $"the host speaks protocol version {Version}; DUP_PREPARE and INHERIT need 3");
    }

    /// <summary>
    /// POLL (version 3): the ready events of <paramref name="events"/>, waiting up to <paramref name="timeout"/>
    /// (infinite: no limit) for the host's EVENT; other requests on this connection wait meanwhile.
    /// </summary>
    internal ushort Poll(ulong handle, ushort events, TimeSpan timeout, in CallInfo call)
    {
        if (Version < 3) throw new ErrnoException(Errno.EOPNOTSUPP, call.ToString(), $"the host speaks protocol version {Version}; POLL needs 3");
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (true)
            {
                uint seq = NextSeq();
                bool wait = timeout != TimeSpan.Zero;
                Send(new PollRequest(handle, events, wait ? PollRequest.Arm : (ushort)0).Write(SendBuffer, seq), default, call);
                var reply = ReceiveReply(MessageType.Poll, seq, null, call);
                Check(PollReply.TryRead(reply, out var r), call);
                if (r.Armed) _armed[handle] = (seq, 0);
                else _armed.Remove(handle);
                if (r.Revents != 0 || !wait) return r.Revents;
                // Not armed: the driver gave no pollhead, so nothing will wake this but the time running out.
                while (!_armed.TryGetValue(handle, out var a) || a.Seq != seq || a.Revents == 0)
                {
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0) return 0;
                    if (!_channel.PollReadable(TimeSpan.FromMilliseconds(Math.Min(left, int.MaxValue)))) continue;
                    ReceiveEvent(call);
                }
                _armed.Remove(handle);
                // Woken: the next POLL asks chpoll(9E) what is ready now (and arms again if nothing is).
            }
        }
    }

    /// <summary>Reads the one message a client may get unasked, an EVENT; anything else breaks the connection.</summary>
    private void ReceiveEvent(in CallInfo call)
    {
        var r = _channel.Receive(ReceiveBuffer.AsSpan(0, Wire.MaxMessage), null);
        if (r.EndOfStream) throw Broken(Errno.ECONNRESET, call, "the device host closed the connection");
        if (!NoteEvent(ReceiveBuffer.AsSpan(0, r.Length), r)) throw Broken(Errno.EPROTO, call, "a message no request asked for that is not an EVENT");
    }

    /// <summary>An EVENT (docs/protocol.md, POLL): noted for the armed poll whose seq it carries; false if not one.</summary>
    private bool NoteEvent(ReadOnlySpan<byte> message, in ReceiveResult r)
    {
        if (r.Truncated || r.FdCount != 0 || !PollEvent.Is(message)) return false;
        if (PollEvent.TryRead(message, out var ev, out uint seq) != Errno.None) return false;
        if (_armed.TryGetValue(ev.Handle, out var a) && a.Seq == seq) _armed[ev.Handle] = (seq, ev.Revents);
        return true;
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

    /// <summary>Notes a no-reply MUNMAP's seq: its refusal may come where a later request's reply belongs.</summary>
    private uint SentNoReply(uint seq)
    {
        if (!_noReplyPending)
        {
            _noReplyPending = true;
            _noReplySeq = seq;
        }
        return seq;
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
            ThrowIfRefusalQueued(e.Errno, call);
            throw new ErrnoException(e.Errno, call.ToString(), $"the device host is gone: {e.Message}");
        }
    }

    /// <summary>Receives the reply to (type, seq); throws the host's errno, or EPROTO/EBADMSG for a reply that is not one.</summary>
    private ReadOnlySpan<byte> ReceiveReply(MessageType type, uint seq, List<SafeFd>? fds, in CallInfo call)
    {
        var reply = ReceiveReplyOrErrno(type, seq, fds, call, out int errno, out bool dropped);
        if (dropped) throw Broken(Errno.EMSGSIZE, call, "the reply was truncated");
        return errno != 0 ? throw new ErrnoException((Errno)errno, call.ToString()) : reply;
    }

    /// <summary>The same for a reply that brings fds: <paramref name="dropped"/> when the kernel dropped some (MSG_CTRUNC).</summary>
    private ReadOnlySpan<byte> ReceiveReply(MessageType type, uint seq, List<SafeFd> fds, in CallInfo call, out bool dropped)
    {
        var reply = ReceiveReplyOrErrno(type, seq, fds, call, out int errno, out dropped);
        if (errno != 0 && (dropped || fds.Count > 0)) throw Broken(Errno.EBADMSG, call, "a failed reply with fds");
        return errno != 0 ? throw new ErrnoException((Errno)errno, call.ToString()) : reply;
    }

    private ReadOnlySpan<byte> ReceiveReplyOrErrno(MessageType type, uint seq, List<SafeFd>? fds, in CallInfo call, out int errno, out bool dropped)
    {
        ReceiveResult r;
        try
        {
            do r = _channel.Receive(ReceiveBuffer.AsSpan(0, Wire.MaxMessage), fds); // EVENTs may come before a reply
            while (!r.EndOfStream && NoteEvent(ReceiveBuffer.AsSpan(0, r.Length), r));
        }
        catch (ErrnoException e)
        {
            _broken = true;
            ThrowIfRefusalQueued(e.Errno, call);
            throw new ErrnoException(e.Errno, call.ToString(), $"the device host is gone: {e.Message}");
        }
        dropped = r.ControlTruncated;
        return CheckReceived(r, type, seq, call, out errno);
    }

    private ReadOnlySpan<byte> CheckReceived(ReceiveResult r, MessageType type, uint seq, in CallInfo call, out int errno)
    {
        if (r.EndOfStream) throw Broken(Errno.ECONNRESET, call, "the device host closed the connection");
        if (r.Truncated) throw Broken(Errno.EMSGSIZE, call, "the reply was truncated");
        var reply = ReceiveBuffer.AsSpan(0, r.Length);
        var error = Reply.TryReadPrefix(reply, type, seq, out errno);
        if (error != Errno.None && IsRefusedNoReply(reply, seq, out int refused, out uint refusedSeq))
            throw RefusedNoReply(refused, refusedSeq, call);
        if (error != Errno.None) throw Broken(error, call, $"not a valid {type} reply to seq {seq}");
        _noReplyPending = false; // the host answers in order: every earlier message was done without complaint
        return reply;
    }

    /// <summary>
    /// After the host closed: was it over a refused no-reply MUNMAP, still queued here? The host closes right after the
    /// refusal, so sendmsg fails (EPIPE), or recvmsg reports the reset (ECONNRESET: our request was still unread
    /// there) before it hands out what is queued.
    /// </summary>
    private void ThrowIfRefusalQueued(Errno errno, in CallInfo call)
    {
        if (_noReplyPending && errno is Errno.EPIPE or Errno.ECONNRESET
            && _channel.TryReceive(ReceiveBuffer, null, out var r) && !r.Truncated
            && IsRefusedNoReply(ReceiveBuffer.AsSpan(0, r.Length), _seq, out int refused, out uint refusedSeq))
            throw RefusedNoReply(refused, refusedSeq, call);
    }

    private ErrnoException RefusedNoReply(int errno, uint seq, in CallInfo call) =>
        Broken(Errno.ECONNRESET, call, $"the host refused the MUNMAP sent without a reply (seq {seq}) with {((Errno)errno).Name()} and closed the connection");

    /// <summary>
    /// A refusal of a no-reply MUNMAP sent before request <paramref name="seq"/>: the host's last message on the
    /// connection (docs/protocol.md), read where the reply to a later request was expected.
    /// </summary>
    private bool IsRefusedNoReply(ReadOnlySpan<byte> message, uint seq, out int errno, out uint refusedSeq)
    {
        errno = 0;
        refusedSeq = 0;
        if (!_noReplyPending || MessageHeader.TryRead(message, out var h) != Errno.None) return false;
        if (h.RawType != ((ushort)MessageType.Munmap | Wire.ReplyBit) || h.Seq - _noReplySeq >= seq - _noReplySeq) return false;
        if (Reply.TryReadPrefix(message, MessageType.Munmap, h.Seq, out errno) != Errno.None || errno == 0) return false;
        refusedSeq = h.Seq;
        return true;
    }

    private void ExpectEmpty(ReadOnlySpan<byte> reply, in CallInfo call)
    {
        if (reply.Length != Wire.ReplyPrefixSize) throw Broken(Errno.EBADMSG, call, $"a {reply.Length}-byte reply where 20 belong");
    }

    private void Check(Errno error, in CallInfo call)
    {
        if (error != Errno.None) throw Broken(error, call, "the device host sent a malformed reply");
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
