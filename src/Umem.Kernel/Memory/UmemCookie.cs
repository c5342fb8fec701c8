using System.Globalization;

namespace Umem.Kernel.Memory;

/// <summary>
/// Describes memory allocated by <see cref="UmemAllocator.Alloc(long, UmemFlags, int)"/>: the C# counterpart of
/// <c>ddi_umem_cookie_t</c>. The driver reaches the memory through <see cref="KernelAddress"/> or
/// <see cref="Span"/>, and hands the cookie to devmap_umem_setup to export ranges of it.
/// </summary>
/// <remarks>
/// A cookie is reference counted: the driver holds one reference until ddi_umem_free, and every mapping that
/// exports part of it holds another. The memory is released when the last reference goes, so freeing a cookie
/// that applications still map never pulls pages from under them (illumos relies on close(9E) ordering for
/// this; Umem enforces it).
/// </remarks>
public sealed class UmemCookie
{
    private const int Live = 0;
    private const int Freed = 1;

    private readonly UmemBacking _backing;
    private int _state;
    private int _references = 1;

    internal UmemCookie(UmemAllocator owner, UmemBacking backing, long id)
    {
        Owner = owner;
        _backing = backing;
        Id = id;
        Type = backing.Locked ? UmemCookieType.KmemNonPageable : UmemCookieType.KmemPageable;
    }

    /// <summary>A number unique within the allocator, for diagnostics and leak reports.</summary>
    public long Id { get; }

    /// <summary>The allocated size: the requested size rounded up to whole pages.</summary>
    public long Size => _backing.Size;

    /// <summary>KMEM_PAGEABLE or KMEM_NON_PAGEABLE.</summary>
    public UmemCookieType Type { get; }

    /// <summary>Bytes in each independently grantable unit (one memfd); see <see cref="UmemAllocator.Alloc(long, UmemFlags, int)"/>.</summary>
    public long GrantBytes => _backing.GrantBytes;

    /// <summary>True after <see cref="UmemAllocator.Free(UmemCookie)"/>.</summary>
    public bool IsFreed => Volatile.Read(ref _state) == Freed;

    /// <summary>The kernel address of the memory (the <c>void *</c> ddi_umem_alloc returns).</summary>
    public nint KernelAddress
    {
        get
        {
            ThrowIfFreed();
            return _backing.Address;
        }
    }

    /// <summary>The whole memory as a span (cookies over 2 GiB: use <see cref="GetSpan(long, int)"/>).</summary>
    public Span<byte> Span
    {
        get
        {
            ThrowIfFreed();
            return Size <= int.MaxValue
                ? _backing.GetSpan(0, (int)Size)
                : throw new InvalidOperationException($"cookie of {Size} bytes is larger than a span; use GetSpan(offset, length)");
        }
    }

    /// <summary>A part of the memory as a span.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        ThrowIfFreed();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > Size)
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is outside the cookie's {Size} bytes");
        return _backing.GetSpan(offset, length);
    }

    internal UmemAllocator Owner { get; }

    /// <summary>Set when the driver freed the cookie while mappings still held it.</summary>
    internal bool WasDeferred { get; set; }

    internal UmemBacking Backing => _backing;

    /// <summary>Current references (1 for the driver until freed, plus one per export).</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>Takes a reference for an export; false once the driver has freed the cookie.</summary>
    internal bool TryAddReference()
    {
        int r = Volatile.Read(ref _references);
        while (true)
        {
            if (r == 0 || IsFreed) return false;
            int seen = Interlocked.CompareExchange(ref _references, r + 1, r);
            if (seen == r) return true;
            r = seen;
        }
    }

    /// <summary>Drops a reference; the last one returns the memory to the allocator.</summary>
    internal void Release()
    {
        int r = Interlocked.Decrement(ref _references);
        if (r == 0) Owner.ReleaseBacking(this);
        else if (r < 0) throw new InvalidOperationException($"umem cookie {Id}: reference count went below zero");
    }

    /// <summary>Marks the cookie freed; false if it already was (a double free).</summary>
    internal bool TryMarkFreed() => Interlocked.CompareExchange(ref _state, Freed, Live) == Live;

    private void ThrowIfFreed()
    {
        if (IsFreed) throw new ObjectDisposedException(ToString(), "the cookie was freed with ddi_umem_free");
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"umem cookie {Id} ({Type}, {Size} bytes)");
}
