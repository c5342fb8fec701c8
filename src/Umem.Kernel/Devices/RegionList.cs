using Umem.Kernel.Ddi;

namespace Umem.Kernel.Devices;

/// <summary>
/// A mapping's devmap handles in order, held without an object of its own while there is one (nearly every
/// mapping): a host holds hundreds of thousands of mappings, and a collection that promotes a burst of new ones
/// marks and copies every object each keeps (issue 13). A mutable struct: keep it in a field and call it there.
/// </summary>
internal struct RegionList
{
    private DevmapHandle? _single;
    private DevmapHandle[]? _many; // once a hole unmap splits a handle, or devmap(9E) made several
    private int _count;

    internal RegionList(List<DevmapHandle> handles)
    {
        if (handles.Count == 1) _single = handles[0];
        else _many = [.. handles];
        _count = handles.Count;
    }

    internal readonly int Count => _count;

    internal readonly DevmapHandle this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return _many is null ? _single! : _many[index];
        }
    }

    internal void RemoveAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        if (_many is null)
        {
            _single = null;
        }
        else
        {
            Array.Copy(_many, index + 1, _many, index, _count - index - 1);
            _many[_count - 1] = null!;
        }
        _count--;
    }

    internal void Insert(int index, DevmapHandle handle)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)index, (uint)_count, nameof(index));
        if (_many is null)
        {
            _many = new DevmapHandle[Math.Max(4, _count + 1)];
            if (_single is not null) _many[0] = _single;
            _single = null;
        }
        else if (_count == _many.Length)
        {
            Array.Resize(ref _many, _count * 2);
        }
        Array.Copy(_many, index, _many, index + 1, _count - index);
        _many[index] = handle;
        _count++;
    }

    internal readonly DevmapHandle[] ToArray()
    {
        var all = new DevmapHandle[_count];
        for (int i = 0; i < _count; i++) all[i] = this[i];
        return all;
    }
}
