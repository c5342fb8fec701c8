using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Locking;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>Validation and dispatch of each request type (docs/protocol.md).</summary>
internal sealed partial class ClientConnection
{
    /// <summary>Handles one received message, counted in the metrics; false when the connection must close.</summary>
    private bool Handle(in ReceiveResult r)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        _lastError = Errno.None;
        bool goOn = HandleCore(r);
        if (_metrics is { } metrics)
        {
            var type = r.Length >= Wire.HeaderSize ? (MessageType)(MessageHeader.ReadRaw(_receive.AsSpan(0, r.Length)).RawType & ~(Wire.ReplyBit | Wire.NoReplyBit)) : 0;
            metrics.Request(type, _lastError, start);
        }
        return goOn;
    }

    private bool HandleCore(in ReceiveResult r)
    {
        ReadOnlySpan<byte> msg = _receive.AsSpan(0, r.Length);
        if (r.Truncated || r.ControlTruncated)
        {
            // The message's end (or some of its fds) is lost: the stream cannot be trusted any more.
            var error = r.Truncated ? Errno.EMSGSIZE : Errno.EBADMSG;
            return r.Length >= Wire.HeaderSize && Fail(MessageHeader.ReadRaw(msg), error, fatal: true);
        }
        var headerError = MessageHeader.TryRead(msg, out var h);
        if (headerError != Errno.None)
        {
            var raw = msg.Length >= Wire.HeaderSize ? MessageHeader.ReadRaw(msg) : default;
            return Fail(raw with { RawType = (ushort)(raw.RawType & ~Wire.ReplyBit) }, headerError, fatal: true);
        }
        bool known = h.Type is >= MessageType.Hello and <= MessageType.Unregister
            || (h.Type is MessageType.Read or MessageType.Write && _version >= 2)
            || (h.Type is MessageType.DupPrepare or MessageType.Inherit or MessageType.Poll && _version >= 3);
        if (h.IsReply || !known || (h.NoReply && h.Type != MessageType.Munmap))
            return Fail(h with { RawType = (ushort)h.Type }, Errno.EPROTO, fatal: true);
        if (_state == State.AwaitingHello && h.Type != MessageType.Hello)
            return Fail(h, Errno.EPROTO, fatal: true);
        int expectedFds = h.Type == MessageType.Register ? 1 : 0;
        if (_fds.Count != expectedFds)
            return Fail(h, Errno.EBADMSG); // the fds are closed by the caller
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
            MessageType.Read or MessageType.Write => ReadOrWrite(msg, h),
            MessageType.DupPrepare => DupPrepare(msg, h),
            MessageType.Inherit => Inherit(msg, h),
            MessageType.Poll => Poll(msg, h),
            _ => Fail(h, Errno.EPROTO, fatal: true),
        };
    }

    private bool Hello(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        if (_state == State.Ready) return Fail(h, Errno.EPROTO, fatal: true); // HELLO only once, first
        var error = HelloRequest.TryRead(msg, out var hello);
        if (error != Errno.None) return Fail(h, error);
        error = hello.Negotiate(out ushort version);
        if (error != Errno.None) return Fail(h, error, fatal: true);
        _state = State.Ready;
        _version = version;
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan); // the idle timer's now (UpdateIdleTimer)
        return Send(new HelloReply(version, (uint)SystemPage.Size, Wire.MaxMessage, Wire.MaxFds).Write(_send, h.Seq));
    }

    private bool Open(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = OpenRequest.TryRead(msg, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (_opens.Count >= _options.MaxOpensPerConnection) return OverLimit(h, Errno.EMFILE, "opens per connection", _options.MaxOpensPerConnection);
        if (!_account!.TryCharge(UidHolding.Opens, 1, _options.MaxOpensPerUid)) return OverLimit(h, Errno.EMFILE, "opens per uid", _options.MaxOpensPerUid);
        DeviceFile file;
        try
        {
            // open(2) of the node: its mode against the client's credential, then open(9E) (spec_open).
            file = _kernel.Open(_node, OpenFlagsExtensions.FromOpenMode((int)req.OFlags), _session!.Process);
        }
        catch (Exception e)
        {
            _account.Release(UidHolding.Opens, 1);
            return KernelError(h, e, "open");
        }
        _opens.Add((ulong)file.Id, file);
        return Send(new OpenReply((ulong)file.Id).Write(_send, h.Seq));
    }

    private bool Close(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IdRequest.TryRead(msg, MessageType.Close, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.Remove(req.Id, out var file)) return Fail(h, Errno.EBADF);
        Disarm(req.Id);
        _account!.Release(UidHolding.Opens, 1);
        try
        {
            // close(2): close(9E) runs now, or after the file's last mapping is gone.
            file.Close();
        }
        catch (Exception e)
        {
            return KernelError(h, e, "close"); // the handle is gone all the same, as after close(2)
        }
        return Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }

    private bool Mmap(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = MmapRequest.TryRead(msg, SystemPage.Size, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var file)) return Fail(h, Errno.EBADF);
        if (_mappings.Count >= _options.MaxMappingsPerConnection)
            return OverLimit(h, Errno.ENOMEM, "mappings per connection", _options.MaxMappingsPerConnection);
        if (!_account!.TryCharge(UidHolding.Mappings, 1, _options.MaxMappingsPerUid))
            return OverLimit(h, Errno.ENOMEM, "mappings per uid", _options.MaxMappingsPerUid);
        DeviceMapping mapping;
        try
        {
            mapping = file.Map((long)req.Offset, (long)req.Length, (Prot)req.Prot, (MapFlags)req.Flags);
        }
        catch (Exception e)
        {
            _account.Release(UidHolding.Mappings, 1);
            return KernelError(h, e, "mmap");
        }
        // The reply must describe every segment at once (E2BIG beyond), and the host must have room outside its
        // reserve for their descriptors (ENFILE: at most one per segment, held while the reply is being sent).
        int fds = mapping.SegmentCount;
        string? limit = null;
        if (fds > Wire.MaxSegments || !_fdReserve.TryTake(_session!.Cred.Uid, fds, out limit))
        {
            Unmapped(mapping);
            return limit is null ? OverLimit(h, Errno.E2BIG, "segments per mapping", Wire.MaxSegments) : OverLimit(h, Errno.ENFILE, limit, _fdReserve.Reserve);
        }
        MappingExport export;
        try
        {
            export = mapping.Export();
        }
        catch (Exception e)
        {
            _fdReserve.Return(fds);
            Unmapped(mapping);
            return KernelError(h, e, "mmap");
        }
        try
        {
            using (export) // the client has its own copies of the descriptors once they are sent
            {
                _mappings.Add((ulong)mapping.Id, mapping);
                return SendMapping(h, (ulong)mapping.Id, export);
            }
        }
        finally
        {
            _fdReserve.Return(fds);
        }
    }

    /// <summary>A new mapping that never left the host is undone before the refusal is answered: the driver sees its
    /// unmap, and the kernel and the uid's account are as they were.</summary>
    private void Unmapped(DeviceMapping mapping)
    {
        CallQuietly(mapping.Dispose, "munmap");
        _account!.Release(UidHolding.Mappings, 1);
    }

    /// <summary>The MMAP reply: the segments, and their fds in batches of at most Wire.MaxFds per message.</summary>
    private bool SendMapping(in MessageHeader h, ulong id, MappingExport export)
    {
        var segments = export.Segments;
        int n = segments.Count;
        long length = 0;
        for (int i = 0; i < n; i++)
        {
            var s = segments[i];
            length += s.Length;
            new MmapSegment((ulong)s.Offset, (ulong)s.Length, (ulong)s.FdOffset, (uint)s.MaxProt, (uint)i).Write(MmapReply.SegmentSlot(_send, i));
        }
        int replyLength = new MmapReply(id, (ulong)length, (uint)n).WriteFixed(_send, h.Seq);
        lock (_sendGate) // no EVENT between a reply's messages
        {
            try
            {
                int first = Math.Min(n, Wire.MaxFds);
                if (!Send(replyLength, CollectFds(segments, 0, first))) return false;
                for (int sent = first; sent < n; sent += Wire.MaxFds)
                {
                    int count = Math.Min(Wire.MaxFds, n - sent);
                    int moreLength = new MmapMore((uint)sent, (uint)count).Write(_send, h.Seq);
                    if (!Send(moreLength, CollectFds(segments, sent, count))) return false;
                }
                return true;
            }
            finally
            {
                Array.Clear(_sendFds);
            }
        }
    }

    private ReadOnlySpan<SafeFd> CollectFds(IReadOnlyList<ExportedSegment> segments, int first, int count)
    {
        for (int i = 0; i < count; i++) _sendFds[i] = segments[first + i].Fd;
        return _sendFds.AsSpan(0, count);
    }

    /// <summary>
    /// MUNMAP: segdev_unmap of a range of the mapping (the kernel skips what is already unmapped). With the no-reply
    /// bit (what the client library sends when a mapping is disposed: munmap(2) has nothing to report that the
    /// caller could act on), success sends nothing, and a refusal is the one reply the client gets, after which the
    /// connection closes: its idea of its mappings is not the host's.
    /// </summary>
    private bool Munmap(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = MunmapRequest.TryRead(msg, SystemPage.Size, out var req);
        DeviceMapping? mapping = null;
        if (error == Errno.None && !_mappings.TryGetValue(req.Mapping, out mapping)) error = Errno.EBADF;
        if (error != Errno.None) return Fail(h, error, fatal: h.NoReply);
        try
        {
            mapping!.Unmap((long)req.Offset, (long)req.Length);
        }
        catch (ErrnoException e)
        {
            return Fail(h, e.Errno, fatal: h.NoReply);
        }
        if (mapping.State == MappingState.Unmapped && _mappings.Remove(req.Mapping)) _account!.Release(UidHolding.Mappings, 1);
        return h.NoReply || Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }

    private bool Ioctl(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IoctlRequest.TryRead(msg, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var file)) return Fail(h, Errno.EBADF);
        var output = _send.AsSpan(IoctlReply.FixedSize, (int)req.OutMax);
        output.Clear(); // a driver never sees bytes of an earlier reply
        int written, rval;
        try
        {
            file.Ioctl(unchecked((int)req.Cmd), IoctlRequest.Input(msg), output, out written, out rval);
        }
        catch (Exception e)
        {
            return KernelError(h, e, "ioctl");
        }
        return Send(new IoctlReply(rval, (uint)written).WriteFixed(_send, h.Seq));
    }

    /// <summary>READ/WRITE (version 2): read(2)/write(2) or pread(2)/pwrite(2), the driver's read(9E)/write(9E).</summary>
    private bool ReadOrWrite(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IoRequest.TryRead(msg, h.Type, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var file)) return Fail(h, Errno.EBADF);
        long? offset = (req.Flags & IoRequest.AtOffset) != 0 ? (long)req.Offset : null;
        bool nonBlock = (req.Flags & IoRequest.NonBlock) != 0;
        int count;
        try
        {
            count = h.Type == MessageType.Read
                ? file.Read(_send.AsSpan(IoReply.FixedSize, (int)req.Length), offset, nonBlock)
                : file.Write(IoRequest.Data(msg), offset, nonBlock);
        }
        catch (Exception e)
        {
            return KernelError(h, e, h.Type == MessageType.Read ? "read" : "write");
        }
        return Send(new IoReply(h.Type, (uint)count).WriteFixed(_send, h.Seq));
    }

    private bool Register(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = RegisterRequest.TryRead(msg, SystemPage.Size, out var req);
        if (error != Errno.None) return Fail(h, error);
        using SafeFd fd = _fds[0]; // the kernel maps it; the host keeps no descriptor of its own
        _fds.Clear();
        var process = _session!.Process;
        if (process.Buffers.Count >= _options.MaxBuffersPerConnection)
            return OverLimit(h, Errno.ENOMEM, "buffers per connection", _options.MaxBuffersPerConnection);
        if ((long)req.Length > _options.MaxRegisteredBytesPerConnection - _registeredBytes)
            return OverLimit(h, Errno.ENOMEM, "registered bytes per connection", _options.MaxRegisteredBytesPerConnection);
        long length = (long)req.Length;
        if (!_account!.TryCharge(UidHolding.RegisteredBytes, length, _options.MaxRegisteredBytesPerUid))
            return OverLimit(h, Errno.ENOMEM, "registered bytes per uid", _options.MaxRegisteredBytesPerUid);
        RegisteredBuffer buffer;
        try
        {
            buffer = process.RegisterBuffer(req.Address, length, fd);
        }
        catch (Exception e)
        {
            _account.Release(UidHolding.RegisteredBytes, length);
            return KernelError(h, e, "register");
        }
        _account.Release(UidHolding.RegisteredBytes, length - buffer.Length); // what the kernel took is what is held
        _registeredBytes += buffer.Length;
        return Send(new RegisterReply((ulong)buffer.Id).Write(_send, h.Seq));
    }

    private bool Unregister(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IdRequest.TryRead(msg, MessageType.Unregister, out var req);
        if (error != Errno.None) return Fail(h, error);
        var process = _session!.Process;
        var buffer = process.FindBuffer((long)req.Id);
        if (buffer is null) return Fail(h, Errno.EBADF);
        _registeredBytes -= buffer.Length;
        _account!.Release(UidHolding.RegisteredBytes, buffer.Length);
        // The buffer is gone even when a driver's cleanup callback threw (logged).
        CallQuietly(() => process.UnregisterBuffer(buffer.Id), "unregister");
        return Send(Reply.WriteEmpty(_send, h.Type, h.Seq));
    }
}
