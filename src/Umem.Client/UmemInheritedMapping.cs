namespace Umem.Client;

/// <summary>
/// A mapping this process inherited from its parent and took over with <see cref="UmemDevice.InheritFrom"/>: the
/// host's record of it (its driver callbacks and its accounting), not an address range (the process already maps
/// the pages). Disposing it tells the host the mapping is gone (MUNMAP of the whole, no reply).
/// </summary>
public sealed class UmemInheritedMapping : IDisposable
{
    private readonly UmemConnection _connection;
    private int _disposed;

    internal UmemInheritedMapping(UmemConnection connection, ulong id, long length)
    {
        _connection = connection;
        Id = (long)id;
        Length = length;
    }

    /// <summary>The host's id of the child's mapping.</summary>
    public long Id { get; }

    /// <summary>The mapping's length in bytes.</summary>
    public long Length { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _connection.MunmapNoReply((ulong)Id, (ulong)Length, new CallInfo("munmap({0}, inherited mapping {1})", _connection.Path, Id));
        _connection.Release();
    }

    public override string ToString() => $"inherited mapping {Id} of {_connection.Path} ({Length} bytes)";
}
