namespace Umem.Kernel.Ddi;

/// <summary>
/// Driver soft state, typed: ddi_soft_state(9F). One <typeparamref name="T"/> per item (usually per instance),
/// created zeroed (<c>new T()</c>) by <see cref="ZAlloc"/>, found by <see cref="Get(int)"/>, released by
/// <see cref="Free"/>. Create the SoftState in the driver's constructor (ddi_soft_state_init in _init) and call
/// <see cref="Fini"/> in <see cref="Driver.Fini"/> (ddi_soft_state_fini in _fini). Thread-safe.
/// </summary>
public sealed class SoftState<T> where T : class, new()
{
    private readonly Lock _gate = new();
    private T?[] _items;
    private bool _finished;

    /// <summary>ddi_soft_state_init(9F): <paramref name="initialItems"/> is a hint of how many items there will be.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative hint.</exception>
    public SoftState(int initialItems = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialItems);
        _items = new T?[Math.Max(initialItems, 1)];
    }

    /// <summary>
    /// ddi_soft_state_zalloc(9F): allocates item <paramref name="item"/>. Fails (<see cref="DdiResult.Failure"/>)
    /// for a negative item or one already allocated.
    /// </summary>
    public DdiResult ZAlloc(int item)
    {
        lock (_gate)
        {
            ThrowIfFinished();
            if (item < 0) return DdiResult.Failure;
            if (item >= _items.Length) Array.Resize(ref _items, Math.Max(item + 1, _items.Length * 2));
            if (_items[item] is not null) return DdiResult.Failure;
            _items[item] = new T();
            return DdiResult.Success;
        }
    }

    /// <summary>ddi_get_soft_state(9F): item <paramref name="item"/>, or null if it was never allocated (or was freed).</summary>
    public T? Get(int item)
    {
        lock (_gate)
        {
            ThrowIfFinished();
            return item >= 0 && item < _items.Length ? _items[item] : null;
        }
    }

    /// <summary>ddi_get_soft_state(9F) for a minor or instance number as the DDI passes it.</summary>
    public T? Get(uint item) => item > int.MaxValue ? null : Get((int)item);

    /// <summary>ddi_soft_state_free(9F): releases item <paramref name="item"/>; nothing happens if it is not allocated.</summary>
    public void Free(int item)
    {
        lock (_gate)
        {
            ThrowIfFinished();
            if (item >= 0 && item < _items.Length) _items[item] = null;
        }
    }

    /// <summary>Items allocated now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _items.Count(i => i is not null);
        }
    }

    /// <summary>ddi_soft_state_fini(9F): releases every item; the soft state cannot be used afterwards.</summary>
    public void Fini()
    {
        lock (_gate)
        {
            Array.Clear(_items);
            _items = [];
            _finished = true;
        }
    }

    private void ThrowIfFinished()
    {
        if (_finished)
            throw new InvalidOperationException($"soft state of {typeof(T).Name} used after ddi_soft_state_fini");
    }
}
