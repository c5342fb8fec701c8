namespace Umem.Kernel.Memory;

/// <summary>
/// Released backing kept mapped and zeroed, keyed by shape (size, grant unit, locked), so that a driver that
/// allocates and frees the same shapes pays no system call. Only backing that never left the host is put here
/// (a process that once held an fd may keep it forever). Locked backing stays locked while cached.
/// </summary>
/// <remarks>
/// Bounded in bytes and in memfds (every cached memfd is an open fd of the host, and the host's sockets need
/// fds too). When full, the backing put longest ago is evicted first, whatever its shape, so shapes a driver no
/// longer uses do not hold the cache. Taking and putting allocate nothing: each backing carries its own list
/// nodes. Lock order: the cache's lock is a leaf; backing is unmapped outside it.
/// </remarks>
internal sealed class BackingCache : IDisposable
{
    private readonly Dictionary<(long Size, long Grant, bool Locked), LinkedList<UmemBacking>> _byShape = [];
    private readonly LinkedList<UmemBacking> _byAge = new(); // oldest first
    private readonly long _capacity;
    private readonly long _fdCapacity;
    private readonly Lock _gate = new();
    private long _bytes;
    private long _fds;
    private long _count;
    private long _hits;
    private long _evictions;
    private bool _disposed;

    internal BackingCache(long capacity, long fdCapacity)
    {
        _capacity = capacity;
        _fdCapacity = fdCapacity;
    }

    internal long Bytes => Volatile.Read(ref _bytes);

    internal long Count => Volatile.Read(ref _count);

    internal long Hits => Volatile.Read(ref _hits);

    internal long Evictions => Volatile.Read(ref _evictions);

    internal UmemBacking? TryTake(long size, long grant, bool locked)
    {
        if (Volatile.Read(ref _count) == 0) return null;
        lock (_gate)
        {
            if (!_byShape.TryGetValue((size, grant, locked), out var list) || list.Last is not { } node)
                return null;
            UmemBacking backing = node.Value;
            Unlink(backing);
            _hits++;
            return backing;
        }
    }

    /// <summary>
    /// True when a backing of this size and fd count could be kept at all (checked before zeroing it, so that
    /// backing which would be thrown away is not zeroed first).
    /// </summary>
    internal bool CanKeep(long size, int fds) => !Volatile.Read(ref _disposed) && size <= _capacity && fds <= _fdCapacity;

    /// <summary>Keeps zeroed backing, evicting the oldest to make room; false when it can never fit or the cache is disposed (the caller disposes it).</summary>
    internal bool TryPut(UmemBacking backing)
    {
        List<UmemBacking>? evicted = null;
        lock (_gate)
        {
            if (_disposed || backing.Size > _capacity || backing.Extents.Length > _fdCapacity) return false;
            while (_bytes + backing.Size > _capacity || _fds + backing.Extents.Length > _fdCapacity)
            {
                UmemBacking oldest = _byAge.First!.Value;
                Unlink(oldest);
                _evictions++;
                (evicted ??= []).Add(oldest);
            }
            var key = (backing.Size, backing.GrantBytes, backing.Locked);
            if (!_byShape.TryGetValue(key, out var list)) _byShape[key] = list = new LinkedList<UmemBacking>();
            list.AddLast(backing.ShapeNode);
            _byAge.AddLast(backing.AgeNode);
            _bytes += backing.Size;
            _fds += backing.Extents.Length;
            _count++;
        }
        if (evicted is not null)
            foreach (var b in evicted) b.Dispose();
        return true;
    }

    /// <summary>Unmaps and closes everything cached (it holds memory, fds and locked-memory quota); returns the bytes given back.</summary>
    internal long Trim()
    {
        List<UmemBacking> all = [];
        long bytes;
        lock (_gate)
        {
            while (_byAge.First is { } node)
            {
                Unlink(node.Value);
                all.Add(node.Value);
            }
            bytes = all.Sum(b => b.Size);
        }
        foreach (var b in all) b.Dispose();
        return bytes;
    }

    private void Unlink(UmemBacking backing)
    {
        backing.ShapeNode.List!.Remove(backing.ShapeNode);
        _byAge.Remove(backing.AgeNode);
        _bytes -= backing.Size;
        _fds -= backing.Extents.Length;
        _count--;
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
        Trim();
    }
}
