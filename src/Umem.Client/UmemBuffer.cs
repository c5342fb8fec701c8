using Umem.Platform;

namespace Umem.Client;

/// <summary>
/// Application memory registered with the device host (REGISTER): a sealed memfd mapped here and by the host, so
/// a driver that locks [Address, Address+Length) with ddi_umem_lock(9F) locks these very pages.
/// </summary>
public sealed unsafe class UmemBuffer : IDisposable
{
    private readonly UmemConnection _connection;
    private readonly MappedRegion _region;
    private readonly SafeFd _memfd;
    private bool _disposed;

    internal UmemBuffer(UmemConnection connection, MappedRegion region, SafeFd memfd, ulong id)
    {
        _connection = connection;
        _region = region;
        _memfd = memfd;
        Id = id;
    }

    /// <summary>The host's id for the buffer.</summary>
    public ulong Id { get; }

    /// <summary>The first byte in this process (what drivers are told to lock).</summary>
    public nint Address => _region.Address;

    /// <summary>Bytes (whole pages).</summary>
    public long Length => (long)_region.Length;

    /// <summary>The buffer (up to 2 GiB) as a span.</summary>
    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new Span<byte>((void*)_region.Address, checked((int)Length));
        }
    }

    /// <summary>UNREGISTER (drivers' locks on it are released), then unmaps it here.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _connection.SendIdRequest(Protocol.MessageType.Unregister, Id, new CallInfo("unregister({0}, buffer {1})", _connection.Path, (long)Id));
        }
        catch (ErrnoException)
        {
            // The host is gone: it released the buffer with the connection.
        }
        _region.Dispose();
        _memfd.Dispose();
        _connection.Release();
    }
}
