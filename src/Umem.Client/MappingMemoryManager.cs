using System.Buffers;

namespace Umem.Client;

/// <summary>
/// <c>Memory&lt;byte&gt;</c> over part of a mapping. Each pin holds a reference on the mapping's address range
/// until unpinned. An owned manager (from <see cref="UmemMapping.GetMemory"/>) also holds one from creation until
/// disposed, so its memory keeps working after the mapping is disposed; the mapping's own
/// <see cref="UmemMapping.Memory"/> borrows the mapping's reference and ends with it.
/// </summary>
/// <remarks>
/// There is deliberately no finalizer (CA2015): one could unmap the range while a Span taken from this memory is
/// still in use on some stack. Memory lives until disposed, unpinned, or its mapping is disposed.
/// </remarks>
internal sealed unsafe class MappingMemoryManager : MemoryManager<byte>
{
    private readonly MappedView _view;
    private readonly long _offset;
    private readonly int _length;
    private readonly bool _owned;
    private int _released;

    internal MappingMemoryManager(MappedView view, long offset, int length, bool owned)
    {
        if (owned) view.AddReference();
        _view = view;
        _offset = offset;
        _length = length;
        _owned = owned;
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        return new Span<byte>((byte*)_view.Address + _offset, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        _view.AddReference();
        return new MemoryHandle((byte*)_view.Address + _offset + elementIndex, default, this);
    }

    public override void Unpin() => _view.Release();

    /// <summary>The mapping was disposed: a borrowed manager's memory is no longer usable (pins taken before still hold).</summary>
    internal void Detach() => Volatile.Write(ref _released, 1);

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0 && _owned) _view.Release();
    }
}
