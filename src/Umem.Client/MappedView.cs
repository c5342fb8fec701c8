using Umem.Platform;

namespace Umem.Client;

/// <summary>
/// The address range of one mapping in this process, reference counted: the <see cref="UmemMapping"/> holds one
/// reference until disposed, and every <see cref="System.Memory{T}"/> view and pin holds another, so memory handed
/// out as <c>Memory&lt;byte&gt;</c> stays mapped until the last view is released. Ranges unmapped while views are
/// alive stay mapped locally (the host has forgotten them) until the whole range goes; without views they are
/// replaced at once by an inaccessible reservation, so nothing else can be mapped into the hole.
/// </summary>
internal sealed class MappedView
{
    private readonly Lock _gate = new();
    private readonly List<(long Start, long End)> _holes = [];
    private int _references = 1;

    internal MappedView(nint address, long length)
    {
        Address = address;
        Length = length;
    }

    internal nint Address { get; }

    internal long Length { get; }

    internal bool IsReleased => Volatile.Read(ref _references) == 0;

    internal void AddReference()
    {
        int r = Volatile.Read(ref _references);
        while (true)
        {
            if (r == 0) throw new ObjectDisposedException(nameof(UmemMapping), "the mapping is unmapped");
            int seen = Interlocked.CompareExchange(ref _references, r + 1, r);
            if (seen == r) return;
            r = seen;
        }
    }

    internal void Release()
    {
        int r = Interlocked.Decrement(ref _references);
        if (r == 0) _ = AddressSpace.Unmap(Address, Length);
        else if (r < 0) throw new InvalidOperationException("mapping reference count went below zero");
    }

    /// <summary>True when [offset, offset+length) is inside the mapping and none of it was unmapped.</summary>
    internal bool IsMapped(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length) return false;
        lock (_gate)
        {
            foreach (var (s, e) in _holes)
                if (s < offset + length && offset < e) return false;
        }
        return true;
    }

    /// <summary>True when every page was unmapped piece by piece (the host has then forgotten the mapping).</summary>
    internal bool IsAllUnmapped()
    {
        lock (_gate)
        {
            if (_holes.Count == 0) return false;
            long covered = 0;
            foreach (var (s, e) in _holes.OrderBy(h => h.Start))
            {
                if (s > covered) return false;
                covered = Math.Max(covered, e);
            }
            return covered >= Length;
        }
    }

    /// <summary>Forgets [offset, offset+length) locally: inaccessible at once when no view can still reach it.</summary>
    internal void Unmap(long offset, long length, bool viewsOutstanding)
    {
        lock (_gate)
        {
            _holes.Add((offset, offset + length));
            if (viewsOutstanding || Volatile.Read(ref _references) != 1) return;
            AddressSpace.ReplaceWithReservation(Address + (nint)offset, length);
        }
    }
}
