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
    // Bit 0: freed by the driver. Bits 1..: references (the driver's until it frees, plus one per export).
    // One word, so that "freed" and "no new reference after free" change together, atomically.
    private const int FreedBit = 1;
    private const int OneReference = 2;

    private readonly UmemBacking _backing;
    private int _state = OneReference;

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
    public bool IsFreed => (Volatile.Read(ref _state) & FreedBit) != 0;

    /// <summary>The kernel address of the memory (the <c>void *</c> ddi_umem_alloc returns).</summary>
    /// <exception cref="ObjectDisposedException">The cookie was freed.</exception>
    public nint KernelAddress
    {
        get
        {
            ThrowIfFreed();
            return _backing.Address;
        }
    }

    /// <summary>The whole memory as a span (cookies over 2 GiB: use <see cref="GetSpan(long, int)"/>).</summary>
    /// <exception cref="ObjectDisposedException">The cookie was freed.</exception>
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
    /// <exception cref="ObjectDisposedException">The cookie was freed.</exception>
    public Span<byte> GetSpan(long offset, int length)
    {
        ThrowIfFreed();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Size - length)
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is outside the cookie's {Size} bytes");
        return _backing.GetSpan(offset, length);
    }

    internal UmemAllocator Owner { get; }

    internal UmemBacking Backing => _backing;

    /// <summary>Current references (1 for the driver until freed, plus one per export).</summary>
    internal int References => Volatile.Read(ref _state) >> 1;

    /// <summary>Takes a reference for an export; false once the driver has freed the cookie.</summary>
    internal bool TryAddReference()
    {
        int s = Volatile.Read(ref _state);
        while (true)
        {
            if ((s & FreedBit) != 0 || s < OneReference) return false;
            int seen = Interlocked.CompareExchange(ref _state, s + OneReference, s);
            if (seen == s) return true;
            s = seen;
        }
    }

    /// <summary>
    /// One more reference, taken by a holder of one for a piece of its own: a devmap handle split by a hole unmap,
    /// an export in flight. Unlike <see cref="TryAddReference"/> it succeeds after the driver's free: the holder's
    /// reference keeps the memory alive until both are released.
    /// </summary>
    /// <exception cref="InvalidOperationException">No export reference is held.</exception>
    internal void AddHeldReference()
    {
        int s = Volatile.Read(ref _state);
        while (true)
        {
            if (s < ExportFloor(s)) throw new InvalidOperationException($"{this}: a held reference was added with no export reference held");
            int seen = Interlocked.CompareExchange(ref _state, s + OneReference, s);
            if (seen == s) return;
            s = seen;
        }
    }

    /// <summary>Drops an export's reference; after the driver's free, the last one returns the memory.</summary>
    /// <exception cref="InvalidOperationException">No export reference is held (more releases than additions).</exception>
    internal void Release()
    {
        int s = Volatile.Read(ref _state);
        while (true)
        {
            if (s < ExportFloor(s))
                throw new InvalidOperationException($"{this}: released more references than were added");
            int seen = Interlocked.CompareExchange(ref _state, s - OneReference, s);
            if (seen == s) break;
            s = seen;
        }
        if (s >> 1 == 1) Owner.ReleaseBacking(this, deferred: true);
    }

    /// <summary>The driver's free: marks the cookie freed and drops the driver's reference, in one step.</summary>
    internal FreeOutcome TryFree()
    {
        int s = Volatile.Read(ref _state);
        while (true)
        {
            if ((s & FreedBit) != 0) return FreeOutcome.AlreadyFreed;
            int seen = Interlocked.CompareExchange(ref _state, s - OneReference + FreedBit, s);
            if (seen == s) return s >> 1 == 1 ? FreeOutcome.Released : FreeOutcome.Deferred;
            s = seen;
        }
    }

    /// <summary>
    /// The least state that holds an export reference: before the free, the driver's own reference and one more;
    /// after it, one (only exports are ever released or shared through these paths).
    /// </summary>
    private static int ExportFloor(int s) => (s & FreedBit) != 0 ? OneReference : 2 * OneReference;

    private void ThrowIfFreed()
    {
        if (IsFreed) throw new ObjectDisposedException(ToString(), "the cookie was freed with ddi_umem_free");
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"umem cookie {Id} ({Type}, {Size} bytes)");
}

/// <summary>What <see cref="UmemCookie.TryFree"/> did.</summary>
internal enum FreeOutcome
{
    /// <summary>The driver's was the last reference: the memory can be returned now.</summary>
    Released,

    /// <summary>Exports still hold the memory; the last <see cref="UmemCookie.Release"/> returns it.</summary>
    Deferred,

    /// <summary>The cookie had been freed before (a double free); nothing changed.</summary>
    AlreadyFreed,
}
