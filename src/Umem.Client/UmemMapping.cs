using Umem.Platform;

namespace Umem.Client;

/// <summary>
/// Device memory mapped into this process (mmap(2) of a device node). The pages are the device's own: writes
/// are seen by the driver and by every other process mapping them. <see cref="Unmap"/> removes part of it
/// (the driver sees a head, tail or hole unmapped); <see cref="Dispose"/> removes the rest.
/// </summary>
/// <remarks>
/// <see cref="Span"/>, <see cref="GetSpan"/> and <see cref="Memory"/> are valid while the mapping is; a pin of
/// <see cref="Memory"/> keeps the range mapped until unpinned. <see cref="GetMemory"/> hands out memory that keeps
/// the range mapped in this process until it is disposed, even after <see cref="Dispose"/>: the address range
/// goes with the last reference (mapping, owned memory, pin).
/// </remarks>
public sealed unsafe class UmemMapping : IDisposable
{
    private readonly UmemConnection _connection;
    private readonly MappedView _view;
    private readonly ulong _id;
    private readonly Lock _gate = new();
    private MappingMemoryManager? _whole;
    private bool _disposed;

    internal UmemMapping(UmemConnection connection, MappedView view, ulong id, long deviceOffset, Prot protection, MapKind kind)
    {
        _connection = connection;
        _view = view;
        _id = id;
        DeviceOffset = deviceOffset;
        Protection = protection;
        Kind = kind;
    }

    /// <summary>The first byte of the mapping in this process.</summary>
    public nint Address => _view.Address;

    /// <summary>The first byte as a pointer.</summary>
    public void* Pointer => (void*)_view.Address;

    /// <summary>Bytes mapped.</summary>
    public long Length => _view.Length;

    /// <summary>Where the mapping starts in the device (the mmap offset).</summary>
    public long DeviceOffset { get; }

    /// <summary>The protection it was mapped with.</summary>
    public Prot Protection { get; }

    /// <summary>Shared or private.</summary>
    public MapKind Kind { get; }

    /// <summary>
    /// mprotect(2) of the whole mapping in this process. The OS checks the request against the memfd the host
    /// granted, not against this library: a read-only grant (devmap_umem_setup(9F) maxprot without PROT_WRITE)
    /// refuses PROT_WRITE with EACCES. Returns <see cref="Errno.None"/> or the OS's errno;
    /// <see cref="Protection"/> keeps the value the mapping was made with.
    /// </summary>
    public Errno TryProtect(Prot protection)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return AddressSpace.Protect(_view.Address, _view.Length, (int)protection);
    }

    /// <summary>The whole mapping (up to 2 GiB) as a span.</summary>
    public Span<byte> Span => GetSpan(0, checked((int)Length));

    /// <summary>[offset, offset+length) of the mapping; throws for a range not (or no longer) mapped.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_view.IsMapped(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is not mapped (the mapping has {Length} bytes)");
        return new Span<byte>((byte*)_view.Address + offset, length);
    }

    /// <summary>The whole mapping (up to 2 GiB) as memory, valid until the mapping is disposed (pins hold it longer).</summary>
    public Memory<byte> Memory
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _whole ??= new MappingMemoryManager(_view, 0, checked((int)Length), owned: false);
                return _whole.Memory;
            }
        }
    }

    /// <summary>
    /// [offset, offset+length) as memory that keeps the range mapped in this process until the owner is disposed,
    /// even after the mapping is.
    /// </summary>
    public System.Buffers.IMemoryOwner<byte> GetMemory(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_view.IsMapped(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is not mapped");
        return new MappingMemoryManager(_view, offset, length, owned: true);
    }

    /// <summary>
    /// munmap(2) of [offset, offset+length) (page-aligned, inside the mapping): the host runs the driver's unmap
    /// callback for the pieces still mapped and the range becomes inaccessible here.
    /// </summary>
    public void Unmap(long offset, long length)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (offset < 0 || length <= 0 || offset > Length - length || !SystemPage.IsAligned(offset) || !SystemPage.IsAligned(length))
                throw new ErrnoException(Errno.EINVAL, $"munmap({this}, offset={offset}, length={length})", "the range must be page-aligned, nonzero and inside the mapping");
            _connection.Munmap(_id, (ulong)offset, (ulong)length, new CallInfo("munmap({0}, offset={1}, length={2})", _connection.Path, offset, length));
            _view.Unmap(offset, length, viewsOutstanding: _whole is not null); // Memory's span covers the whole range
        }
    }

    /// <summary>
    /// Unmaps what is left: the host forgets the mapping at once (best effort when the host is gone); the
    /// address range goes when the last <see cref="Memory"/> view of it is released.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _whole?.Detach(); // borrowed our reference; pins taken before keep their own
            _whole = null;
        }
        bool hostForgot = _view.IsAllUnmapped(); // every piece went through Unmap: nothing left to tell the host
        _view.Release(); // unmapped here first: the host cannot refuse a MUNMAP the client library sends
        if (!hostForgot)
            _connection.MunmapNoReply(_id, (ulong)Length, new CallInfo("munmap({0}, offset={1}, length={2})", _connection.Path, 0, Length));
        _connection.Release();
    }

    /// <inheritdoc/>
    /// <summary>The host's id of the mapping.</summary>
    internal ulong Id => _id;

    /// <summary>The connection the mapping was made on.</summary>
    internal UmemConnection Connection => _connection;

    public override string ToString() => $"mapping {_id} of {_connection.Path} at 0x{Address:x} ({Length} bytes, {Protection})";
}
