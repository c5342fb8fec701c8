using Umem.Platform;
using Umem.Protocol;

namespace Umem.Client;

/// <summary>
/// An open device node of a Umem device host: the application's side of open(2), mmap(2), ioctl(2) on a
/// driver's minor node. Every call is one request on the node's SEQPACKET connection; failures throw
/// <see cref="ErrnoException"/> with the errno the host or driver returned (ENXIO, EACCES, ...).
/// </summary>
/// <remarks>
/// Thread-safe: requests from many threads share the connection, one at a time. Mappings and buffers outlive
/// <see cref="Dispose"/> (as mappings outlive close(2)); the connection closes when the last of them goes.
/// </remarks>
public sealed class UmemDevice : IDisposable
{
    private readonly UmemConnection _connection;
    private readonly ulong _handle;
    private int _disposed;

    private UmemDevice(UmemConnection connection, ulong handle, FileAccess access)
    {
        _connection = connection;
        _handle = handle;
        Access = access;
    }

    /// <summary>The node's socket path.</summary>
    public string Path => _connection.Path;

    /// <summary>How the node was opened.</summary>
    public FileAccess Access { get; }

    /// <summary>The page size the host reported (the granularity of offsets and lengths).</summary>
    public int PageSize => _connection.PageSize;

    /// <summary>The protocol version in use.</summary>
    public int ProtocolVersion => _connection.Version;

    /// <summary>Opens a node for reading and writing (O_RDWR).</summary>
    public static UmemDevice Open(string path) => Open(path, FileAccess.ReadWrite);

    /// <summary>Connects to the node, negotiates the protocol (HELLO) and opens it (OPEN) with <paramref name="access"/>.</summary>
    public static UmemDevice Open(string path, FileAccess access)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        uint oflags = access switch
        {
            FileAccess.Read => 0,
            FileAccess.Write => 1,
            FileAccess.ReadWrite => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "Read, Write or ReadWrite"),
        };
        var connection = UmemConnection.Connect(path);
        try
        {
            return new UmemDevice(connection, connection.Open(oflags, new CallInfo("open(\"{0}\", {3})", path, text: UmemConnection.FormatOFlags(oflags))), access);
        }
        catch
        {
            connection.Release();
            throw;
        }
    }

    /// <summary>
    /// mmap(2) of [offset, offset+length) of the device (page-aligned). The host runs the driver's devmap(9E)
    /// and sends one memfd per segment, at most 250 per message; each message's are mapped MAP_FIXED into one reserved
    /// range and closed before the next is read. <see cref="MapOptions.Populate"/> pre-faults the pages (MAP_POPULATE).
    /// </summary>
    /// <remarks>
    /// Fds the kernel cannot hand over (RLIMIT_NOFILE) fail this map with EMFILE and leave the device usable: the soft
    /// limit is raised to the hard one when a reply needs it, and past the hard limit the map is refused before it is asked.
    /// </remarks>
    public UmemMapping Map(long offset, long length, Prot protection = Prot.ReadWrite, MapKind kind = MapKind.Shared,
        MapOptions options = MapOptions.None)
    {
        ThrowIfDisposed();
        var call = new CallInfo(kind == MapKind.Shared ? "mmap({0}, offset={1}, length={2}, {3}, MAP_SHARED)" : "mmap({0}, offset={1}, length={2}, {3}, MAP_PRIVATE)",
            Path, offset, length, UmemConnection.FormatProt((int)protection));
        if (offset < 0 || length <= 0 || !SystemPage.IsAligned(offset) || !SystemPage.IsAligned(length))
            throw new ErrnoException(Errno.EINVAL, call.ToString(), "offset and length must be page-aligned and length nonzero");
        ObjectDisposedException.ThrowIf(!_connection.TryAddReference(), this);
        try
        {
            var view = _connection.Mmap(_handle, offset, length, (int)protection, (int)kind, (options & MapOptions.Populate) != 0, call, out ulong mapping);
            return new UmemMapping(_connection, view, mapping, offset, protection, kind);
        }
        catch
        {
            _connection.Release();
            throw;
        }
    }

    /// <summary>
    /// read(2) (<paramref name="offset"/> null: at the file offset, which advances) or pread(2): the driver's read(9E)
    /// fills up to 60000 bytes of <paramref name="buffer"/>. Returns the bytes read; 0 is end of file. Needs a host of
    /// protocol version 2 (EOPNOTSUPP otherwise).
    /// </summary>
    public int Read(Span<byte> buffer, long? offset = null, bool nonBlock = false)
    {
        ThrowIfDisposed();
        return _connection.Transfer(MessageType.Read, _handle, buffer, offset, nonBlock, new CallInfo("read({0}, {1} bytes)", Path, buffer.Length));
    }

    /// <summary>
    /// write(2) (<paramref name="offset"/> null: at the file offset, which advances) or pwrite(2): the driver's
    /// write(9E) takes up to 60000 bytes of <paramref name="data"/>. Returns the bytes written.
    /// </summary>
    public int Write(ReadOnlySpan<byte> data, long? offset = null, bool nonBlock = false)
    {
        ThrowIfDisposed();
        // WRITE only reads the bytes; Transfer takes one span type for both directions.
        var bytes = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data), data.Length);
        return _connection.Transfer(MessageType.Write, _handle, bytes, offset, nonBlock, new CallInfo("write({0}, {1} bytes)", Path, data.Length));
    }

    /// <summary>
    /// poll(2) on the device (protocol version 3): the driver's chpoll(9E) says which of <paramref name="events"/> are
    /// ready (<see cref="UmemPollEvents.Err"/> and <see cref="UmemPollEvents.Hup"/> always count); if none, waits up
    /// to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: no limit, zero: not at all) for its
    /// pollwakeup(9F). No thread of the host waits meanwhile. Returns <see cref="UmemPollEvents.None"/> when the time ran out.
    /// </summary>
    public UmemPollEvents Poll(UmemPollEvents events, TimeSpan timeout)
    {
        ThrowIfDisposed();
        if ((ushort)events is var e && (e & ~PollRequest.EventMask) != 0)
            throw new ArgumentOutOfRangeException(nameof(events), events, "In, Pri, Out, RdNorm, RdBand or WrBand");
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "not negative, or infinite");
        return (UmemPollEvents)_connection.Poll(_handle, (ushort)events, timeout, new CallInfo("poll({0}, events=0x{1:x})", Path, (int)events));
    }

    /// <summary>ioctl(2): runs the driver's ioctl(9E) with <paramref name="input"/>; up to output.Length bytes come back.</summary>
    public UmemIoctlResult Ioctl(uint cmd, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ThrowIfDisposed();
        return _connection.Ioctl(_handle, cmd, input, output, new CallInfo("ioctl({0}, cmd={1}, in={2})", Path, cmd, input.Length));
    }

    /// <summary>
    /// Registers <paramref name="length"/> bytes (rounded up to pages) of new application memory for drivers to
    /// lock (ddi_umem_lock(9F)): a sealed memfd mapped here and sent to the host.
    /// </summary>
    public UmemBuffer RegisterBuffer(long length)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, 0);
        long bytes = SystemPage.PagesToBytes(SystemPage.BytesToPagesRoundUp(length));
        ObjectDisposedException.ThrowIf(!_connection.TryAddReference(), this);
        SafeFd? memfd = null;
        MappedRegion? region = null;
        try
        {
            memfd = MemFd.CreateSealed("umem-buffer", bytes);
            region = MappedRegion.MapShared(memfd, 0, bytes, writable: true);
            ulong id = _connection.Register((ulong)region.Address, (ulong)bytes, memfd, new CallInfo("register({0}, {1} bytes)", Path, bytes));
            return new UmemBuffer(_connection, region, memfd, id);
        }
        catch
        {
            region?.Dispose();
            memfd?.Dispose();
            _connection.Release();
            throw;
        }
    }

    /// <summary>
    /// DUP_PREPARE (protocol version 3): before a fork(2), a one-time token for <paramref name="mapping"/> that the
    /// child redeems with <see cref="InheritFrom"/> on a device of its own to make its inherited copy of the mapping
    /// its own (the driver's devmap_dup(9E) runs, and the host charges the child). The token is a secret: pass it
    /// only to the child (fork copies it). It expires after the host's InheritTokenLifetime.
    /// </summary>
    public InheritToken PrepareFork(UmemMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ThrowIfDisposed();
        if (!ReferenceEquals(mapping.Connection, _connection))
            throw new ArgumentException("the mapping was made through another device", nameof(mapping));
        return _connection.DupPrepare(mapping.Id, new CallInfo("dup_prepare({0}, mapping {1})", Path, (long)mapping.Id));
    }

    /// <summary>
    /// INHERIT (protocol version 3): in the forked child, takes over the mapping <paramref name="token"/> stands for
    /// through this open. The child already maps the pages (fork copied the mapping), so nothing is mapped here:
    /// the result names the host's record, which goes when it is disposed or the device's connection ends.
    /// </summary>
    /// <exception cref="ErrnoException">ENOENT (unknown or used token), ETIMEDOUT (expired), EPERM (not a child of
    /// the process that prepared it), EACCES (this open grants less than the parent's), or devmap_dup(9E)'s errno.</exception>
    public UmemInheritedMapping InheritFrom(InheritToken token)
    {
        ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(!_connection.TryAddReference(), this);
        try
        {
            var r = _connection.Inherit(_handle, token, new CallInfo("inherit({0})", Path));
            return new UmemInheritedMapping(_connection, r.Mapping, (long)r.Length);
        }
        catch
        {
            _connection.Release();
            throw;
        }
    }

    /// <summary>CLOSE (close(9E) runs once the node's mappings are gone); the connection closes with the last mapping or buffer.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            _connection.SendIdRequest(MessageType.Close, _handle, new CallInfo("close({0})", Path));
        }
        catch (ErrnoException)
        {
            // The host is gone: nothing is open any more.
        }
        _connection.Release();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>The connection (for tests that send what the library would not).</summary>
    internal UmemConnection Connection => _connection;

    /// <summary>The connection's socket (for tests that also speak raw syscalls).</summary>
    internal System.Runtime.InteropServices.SafeHandle SocketHandle => _connection.Handle;
}
