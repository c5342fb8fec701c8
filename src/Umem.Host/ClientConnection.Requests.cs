using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>Validation and dispatch of each request type (docs/protocol.md).</summary>
internal sealed partial class ClientConnection
{
    private const int PROT_WRITE = 2;

    /// <summary>Handles one received message; false when the connection must close.</summary>
    private bool Handle(in ReceiveResult r)
    {
        ReadOnlySpan<byte> msg = _receive.AsSpan(0, r.Length);
        if (r.Truncated || r.ControlTruncated)
        {
            // The message's end (or some of its fds) is lost: the stream cannot be trusted any more.
            var error = r.Truncated ? ProtocolError.EMSGSIZE : ProtocolError.EBADMSG;
            return r.Length >= Wire.HeaderSize && Fail(MessageHeader.ReadRaw(msg), error, fatal: true);
        }
        var headerError = MessageHeader.TryRead(msg, out var h);
        if (headerError != ProtocolError.None)
        {
            var raw = msg.Length >= Wire.HeaderSize ? MessageHeader.ReadRaw(msg) : default;
            return Fail(raw with { RawType = (ushort)(raw.RawType & ~Wire.ReplyBit) }, headerError, fatal: true);
        }
        if (h.IsReply || h.Type is < MessageType.Hello or > MessageType.Unregister || (h.NoReply && h.Type != MessageType.Munmap))
            return Fail(h with { RawType = (ushort)h.Type }, ProtocolError.EPROTO, fatal: true);
        if (_state == State.AwaitingHello && h.Type != MessageType.Hello)
            return Fail(h, ProtocolError.EPROTO, fatal: true);
        int expectedFds = h.Type == MessageType.Register ? 1 : 0;
        if (_fds.Count != expectedFds)
            return Fail(h, ProtocolError.EBADMSG); // the fds are closed by the caller
        return h.Type switch
        {
            MessageType.Hello => Hello(msg, h),
            MessageType.Open => Open(msg, h),
            MessageType.Close => Close(msg, h),
            MessageType.Mmap => Mmap(msg, h),
            MessageType.Munmap => Munmap(msg, h),
            MessageType.Ioctl => Ioctl(msg, h),
            MessageType.Register => Register(msg, h),
            MessageType.Unregister => Unregister(msg, h),
            _ => Fail(h, ProtocolError.EPROTO, fatal: true),
        };
    }

    private bool Hello(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        if (_state == State.Ready) return Fail(h, ProtocolError.EPROTO, fatal: true); // HELLO only once, first
        var error = HelloRequest.TryRead(msg, out var hello);
        if (error != ProtocolError.None) return Fail(h, error);
        error = hello.Negotiate(out ushort version);
        if (error != ProtocolError.None) return Fail(h, error, fatal: true);
        _state = State.Ready;
        _helloTimer?.Dispose();
        _helloTimer = null;
        return Send(new HelloReply(version, (uint)SystemPage.Size, Wire.MaxMessage, Wire.MaxFds).Write(_send, h.Seq));
    }

    private bool Open(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = OpenRequest.TryRead(msg, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        var mode = (OpenMode)req.OFlags;
        var session = _session!;
        // open(2) on a device node: the node's permission bits for the peer's uid/gid, then open(9E).
        if (!_node.Allows(session.Cred.Uid, session.Cred.Gid, session.Groups, mode)) return Fail(h, ProtocolError.EACCES);
        if (_opens.Count >= _options.MaxOpensPerConnection) return Send(Reply.WriteError(_send, h.Type, h.Seq, (int)Errno.EMFILE));
        object state;
        try
        {
            state = _service.Open(session, _node, mode) ?? throw new InvalidOperationException("Open returned null");
        }
        catch (Exception e)
        {
            return ServiceError(h, e, "Open");
        }
        ulong id = ++_lastOpen;
        _opens.Add(id, new OpenEntry(state, mode));
        return Send(new OpenReply(id).Write(_send, h.Seq));
    }

    private bool Close(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IdRequest.TryRead(msg, MessageType.Close, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        if (!_opens.Remove(req.Id, out var open)) return Fail(h, ProtocolError.EBADF);
        open.Closed = true;
        if (open.Mappings == 0)
        {
            try
            {
                _service.Close(_session!, open.State);
            }
            catch (Exception e)
            {
                return ServiceError(h, e, "Close"); // the handle is gone all the same, as after close(2)
            }
        }
        return Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }

    private bool Mmap(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = MmapRequest.TryRead(msg, SystemPage.Size, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var open)) return Fail(h, ProtocolError.EBADF);
        // smmap_common: the fd must be open for reading, and a shared writable mapping needs FWRITE.
        if (!open.Mode.CanRead() || (req.Flags == Wire.MapShared && (req.Prot & PROT_WRITE) != 0 && !open.Mode.CanWrite()))
            return Fail(h, ProtocolError.EACCES);
        if (_mappings.Count >= _options.MaxMappingsPerConnection) return Send(Reply.WriteError(_send, h.Type, h.Seq, (int)Errno.ENOMEM));
        var session = _session!;
        IDeviceMapping mapping;
        try
        {
            mapping = _service.Map(session, open.State, (long)req.Offset, (long)req.Length, (int)req.Prot, (int)req.Flags)
                ?? throw new InvalidOperationException("Map returned null");
        }
        catch (Exception e)
        {
            return ServiceError(h, e, "Map");
        }
        int errno = CheckMapping(mapping, (long)req.Length, (int)req.Prot);
        if (errno == 0)
        {
            // From here the memfds may stay in the client for ever; the fds to check are the ones granting makes
            // (a DDI mapping reopens read-only segments O_RDONLY only when it is granted).
            mapping.MarkGranted();
            errno = CheckReadOnlyFds(mapping);
        }
        if (errno != 0)
        {
            try
            {
                _service.Unmap(session, mapping, 0, (long)req.Length);
            }
            catch (Exception e)
            {
                Log.ServiceFailed(_log, session, "Unmap", e);
            }
            return Send(Reply.WriteError(_send, h.Type, h.Seq, errno));
        }

        var entry = _spareMappings.TryPop(out var spare) ? spare : new MappingEntry();
        entry.Id = ++_lastMapping;
        entry.Mapping = mapping;
        entry.Open = open;
        entry.Length = (long)req.Length;
        entry.Live.Add((0, entry.Length));
        open.Mappings++;
        _mappings.Add(entry.Id, entry);

        int n = mapping.SegmentCount;
        int length = new MmapReply(entry.Id, req.Length, (uint)n).WriteFixed(_send, h.Seq);
        for (int i = 0; i < n; i++)
        {
            var s = mapping.GetSegment(i);
            new MmapSegment((ulong)s.Offset, (ulong)s.Length, (ulong)s.FdOffset, (uint)s.MaxProt, (uint)i)
                .Write(MmapReply.SegmentSlot(_send, i));
        }
        try
        {
            int first = Math.Min(n, Wire.MaxFds);
            if (!Send(length, CollectFds(mapping, 0, first))) return false;
            for (int sent = first; sent < n; sent += Wire.MaxFds)
            {
                int count = Math.Min(Wire.MaxFds, n - sent);
                int moreLength = new MmapMore((uint)sent, (uint)count).Write(_send, h.Seq);
                if (!Send(moreLength, CollectFds(mapping, sent, count))) return false;
            }
            return true;
        }
        finally
        {
            Array.Clear(_sendFds);
        }
    }

    private ReadOnlySpan<SafeFd> CollectFds(IDeviceMapping mapping, int first, int count)
    {
        for (int i = 0; i < count; i++) _sendFds[i] = mapping.GetSegment(first + i).Fd;
        return _sendFds.AsSpan(0, count);
    }

    /// <summary>
    /// Checks what the service returned before anything leaves the host: exact coverage of [0, length) in page
    /// multiples and prot within every maxprot (EACCES); <see cref="CheckReadOnlyFds"/> then checks the granted fds,
    /// so that a bug in a driver cannot hand out write access (EIO, logged).
    /// </summary>
    private int CheckMapping(IDeviceMapping mapping, long length, int prot)
    {
        int n = mapping.SegmentCount;
        if (n > Wire.MaxSegments) return (int)Errno.E2BIG; // the segments must fit in one reply
        string? problem = null;
        if (mapping.Length != length || n < 1) problem = $"length {mapping.Length} in {n} segments for a request of {length}";
        long expected = 0;
        for (int i = 0; problem is null && i < n; i++)
        {
            var s = mapping.GetSegment(i);
            if (s.Offset != expected || s.Length <= 0 || !SystemPage.IsAligned(s.Length) || s.FdOffset < 0
                || !SystemPage.IsAligned(s.FdOffset) || s.Length > length - s.Offset || (s.MaxProt & ~(int)Wire.ProtMask) != 0)
            {
                problem = $"segment {i} ({s.Offset}, {s.Length}, fd offset {s.FdOffset}, maxprot {s.MaxProt}) does not follow at {expected}";
                break;
            }
            if (s.Fd is null || s.Fd.IsClosed || s.Fd.IsInvalid)
            {
                problem = $"segment {i} has no open fd";
                break;
            }
            if ((prot & ~s.MaxProt) != 0) return (int)Errno.EACCES; // devmap_umem_setup: prot must be within maxprot
            expected += s.Length;
        }
        if (problem is null && expected != length) problem = $"segments cover {expected} of {length} bytes";
        if (problem is null) return 0;
        Log.BadMapping(_log, _session!, problem);
        return (int)Errno.EIO;
    }

    /// <summary>After granting: every segment without PROT_WRITE in its maxprot goes out as an O_RDONLY fd (EIO, logged, if not).</summary>
    private int CheckReadOnlyFds(IDeviceMapping mapping)
    {
        for (int i = 0; i < mapping.SegmentCount; i++)
        {
            var s = mapping.GetSegment(i);
            if ((s.MaxProt & PROT_WRITE) != 0) continue;
            int fl = Interop.fcntl(s.Fd, Interop.F_GETFL, 0);
            if (fl < 0 || (fl & Interop.O_ACCMODE) != Interop.O_RDONLY)
            {
                Log.BadMapping(_log, _session!, $"segment {i} is read-only (maxprot {s.MaxProt}) but its fd is not O_RDONLY");
                return (int)Errno.EIO;
            }
        }
        return 0;
    }

    /// <summary>
    /// MUNMAP. With the no-reply bit (what the client library sends when a mapping is disposed: munmap(2) has
    /// nothing to report that the caller could act on), success sends nothing, and a refusal is the one reply the
    /// client gets, after which the connection closes: its idea of its mappings is not the host's.
    /// </summary>
    private bool Munmap(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = MunmapRequest.TryRead(msg, SystemPage.Size, out var req);
        MappingEntry? entry = null;
        if (error == ProtocolError.None && !_mappings.TryGetValue(req.Mapping, out entry)) error = ProtocolError.EBADF;
        if (error != ProtocolError.None) return Fail(h, error, fatal: h.NoReply);
        if (req.Offset + req.Length > (ulong)entry!.Length) return Fail(h, ProtocolError.EINVAL, fatal: h.NoReply);
        UnmapRange(entry, (long)req.Offset, (long)req.Length);
        if (entry.Live.Count == 0) RemoveMapping(entry);
        return h.NoReply || Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }

    /// <summary>Tells the service about every still-mapped piece of [start, start+length) and forgets it (segdev_unmap).</summary>
    private void UnmapRange(MappingEntry entry, long start, long length)
    {
        long end = start + length;
        var live = entry.Live;
        for (int i = 0; i < live.Count; i++)
        {
            var (s, e) = live[i];
            if (e <= start || s >= end) continue;
            long a = Math.Max(s, start), b = Math.Min(e, end);
            try
            {
                _service.Unmap(_session!, entry.Mapping, a, b - a);
            }
            catch (Exception ex)
            {
                Log.ServiceFailed(_log, _session, "Unmap", ex); // unmap(9E) cannot fail: the range is gone regardless
            }
            if (s < a && b < e)
            {
                live[i] = (s, a);
                live.Insert(i + 1, (b, e));
                i++;
            }
            else if (s < a)
            {
                live[i] = (s, a);
            }
            else if (b < e)
            {
                live[i] = (b, e);
            }
            else
            {
                live.RemoveAt(i);
                i--;
            }
        }
    }

    private void RemoveMapping(MappingEntry entry)
    {
        _mappings.Remove(entry.Id);
        var open = entry.Open;
        open.Mappings--;
        if (open.Closed && open.Mappings == 0) CloseOpen(open);
        entry.Mapping = null!;
        entry.Open = null!;
        entry.Live.Clear();
        _spareMappings.Push(entry);
    }

    private bool Ioctl(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IoctlRequest.TryRead(msg, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var open)) return Fail(h, ProtocolError.EBADF);
        var output = _send.AsSpan(IoctlReply.FixedSize, (int)req.OutMax);
        output.Clear(); // a driver never sees bytes of an earlier reply
        IoctlResult result;
        try
        {
            result = _service.Ioctl(_session!, open.State, req.Cmd, IoctlRequest.Input(msg), output);
        }
        catch (Exception e)
        {
            return ServiceError(h, e, "Ioctl");
        }
        if (result.OutLength < 0 || result.OutLength > (int)req.OutMax)
            return ServiceError(h, new InvalidOperationException($"Ioctl returned {result.OutLength} output bytes for out_max {req.OutMax}"), "Ioctl");
        return Send(new IoctlReply(result.Rval, (uint)result.OutLength).WriteFixed(_send, h.Seq));
    }

    private bool Register(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = RegisterRequest.TryRead(msg, SystemPage.Size, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        if (_buffers.Count >= _options.MaxBuffersPerConnection) return Send(Reply.WriteError(_send, h.Type, h.Seq, (int)Errno.ENOMEM));
        SafeFd fd = _fds[0];
        _fds.Clear(); // ours now: disposed below unless the buffer takes it
        RegisteredBuffer? buffer = null;
        try
        {
            int errno = CheckRegisteredFd(fd, (long)req.Length);
            if (errno != 0) return Send(Reply.WriteError(_send, h.Type, h.Seq, errno));
            MappedRegion region;
            try
            {
                region = MappedRegion.MapShared(fd, 0, (long)req.Length, Interop.PROT_READ | Interop.PROT_WRITE);
            }
            catch (ErrnoException e)
            {
                return Send(Reply.WriteError(_send, h.Type, h.Seq, (int)e.Errno));
            }
            buffer = new RegisteredBuffer(req.Address, (long)req.Length, fd, region);
            object state;
            try
            {
                state = _service.Register(_session!, buffer) ?? throw new InvalidOperationException("Register returned null");
            }
            catch (Exception e)
            {
                return ServiceError(h, e, "Register");
            }
            ulong id = ++_lastBuffer;
            _buffers.Add(id, new BufferEntry(state, buffer));
            buffer = null;
            fd = null!;
            return Send(new RegisterReply(id).Write(_send, h.Seq));
        }
        finally
        {
            if (buffer is not null) buffer.Dispose();
            else fd?.Dispose();
        }
    }

    /// <summary>
    /// A registered buffer must be a memfd sealed against shrinking (the host maps it: a client that could
    /// truncate it would make the host fault), opened read-write, and at least as long as the range (EINVAL, EACCES).
    /// </summary>
    private static int CheckRegisteredFd(SafeFd fd, long length)
    {
        int seals = Interop.fcntl(fd, Interop.F_GET_SEALS, 0);
        if (seals < 0 || (seals & Interop.F_SEAL_SHRINK) == 0) return (int)Errno.EINVAL;
        int fl = Interop.fcntl(fd, Interop.F_GETFL, 0);
        if (fl < 0 || (fl & Interop.O_ACCMODE) != Interop.O_RDWR) return (int)Errno.EACCES;
        long size = Interop.lseek(fd, 0, Interop.SEEK_END);
        return size < length ? (int)Errno.EINVAL : 0;
    }

    private bool Unregister(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IdRequest.TryRead(msg, MessageType.Unregister, out var req);
        if (error != ProtocolError.None) return Fail(h, error);
        if (!_buffers.Remove(req.Id, out var entry)) return Fail(h, ProtocolError.EBADF);
        try
        {
            _service.Unregister(_session!, entry.State);
        }
        catch (Exception e)
        {
            Log.ServiceFailed(_log, _session, "Unregister", e); // the buffer is gone regardless
        }
        entry.Buffer.Dispose();
        return Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }
}
