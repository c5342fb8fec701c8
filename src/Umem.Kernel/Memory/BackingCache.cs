namespace Umem.Kernel.Memory;

/// <summary>
/// Released backing kept mapped and zeroed, keyed by shape (size, grant unit, locked), so that a driver that
/// allocates and frees the same shapes pays no system call. Only backing that never left the host is put here
/// (a process that once held an fd may keep it forever). Locked backing stays locked while cached.
/// </summary>
internal sealed class BackingCache : IDisposable
{
    private readonly Dictionary<(long Size, long Grant, bool Locked), Stack<UmemBacking>> _byShape = [];
    private readonly long _capacity;
    private readonly Lock _gate = new();
    private long _bytes;
    private long _count;
    private long _hits;
    private bool _disposed;

    internal BackingCache(long capacity) => _capacity = capacity;

    internal long Bytes => Volatile.Read(ref _bytes);

    internal long Count => Volatile.Read(ref _count);

    internal long Hits => Volatile.Read(ref _hits);

    internal UmemBacking? TryTake(long size, long grant, bool locked)
    {
        if (Volatile.Read(ref _count) == 0) return null;
        lock (_gate)
        {
            if (_byShape.TryGetValue((size, grant, locked), out var stack) && stack.TryPop(out var backing))
            {
                _bytes -= size;
                _count--;
                _hits++;
                return backing;
            }
            return null;
        }
    }

    /// <summary>True when <paramref name="size"/> more bytes would fit now (checked before zeroing, so a backing
    /// that would be thrown away anyway is not zeroed first).</summary>
    internal bool HasRoomFor(long size) => !Volatile.Read(ref _disposed) && Volatile.Read(ref _bytes) <= _capacity - size;

    /// <summary>Keeps zeroed backing; false when full or disposed (the caller disposes it).</summary>
    internal bool TryPut(UmemBacking backing)
    {
        if (backing.Size > _capacity) return false;
        lock (_gate)
        {
            if (_disposed || _bytes + backing.Size > _capacity) return false;
            var key = (backing.Size, backing.GrantBytes, backing.Locked);
            if (!_byShape.TryGetValue(key, out var stack)) _byShape[key] = stack = new Stack<UmemBacking>();
            stack.Push(backing);
            _bytes += backing.Size;
            _count++;
            return true;
        }
    }

    /// <summary>Unmaps and closes everything cached (it holds memory, fds and locked-memory quota); returns the bytes given back.</summary>
    internal long Trim()
    {
        List<UmemBacking> all = [];
        long bytes;
        lock (_gate)
        {
            foreach (var stack in _byShape.Values)
            {
                all.AddRange(stack);
                stack.Clear();
            }
            bytes = _bytes;
            _bytes = 0;
            _count = 0;
        }
        foreach (var b in all) b.Dispose();
        return bytes;
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
        Trim();
    }
}
