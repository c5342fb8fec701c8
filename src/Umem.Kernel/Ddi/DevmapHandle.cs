using System.Globalization;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// A devmap handle (<c>devmap_cookie_t</c>, seg_dev's <c>devmap_handle_t</c>): one region of a device mapping,
/// made by the framework for each devmap(9E) call and filled in by devmap_umem_setup(9F). The driver sees it in
/// devmap(9E) and in its callbacks; the framework keeps the rest (cookie, offsets, private data).
/// </summary>
public sealed class DevmapHandle
{
    // The kernel, not the map request: a handle outlives its request, and per mapping nothing else should (issue 13).
    private readonly UmemKernel _kernel;

    // The illumos fields (dh_*), named as there.
    private readonly Prot _prot, _origMaxprot;
    private Prot _maxprot;
    private long _uoff, _len, _roff;
    private DevmapFlags _flags;
    private bool _setupDone;

    /// <summary>dh_pvtp: the driver's private data; a field so callbacks can receive it by reference.</summary>
    internal object? Pvtp;

    internal DevmapHandle(MapTarget target, DevT dev, Prot prot, Prot maxprot, long uoff)
        : this(target.Kernel, dev, prot, maxprot, uoff)
    {
    }

    private DevmapHandle(UmemKernel kernel, DevT dev, Prot prot, Prot maxprot, long uoff)
    {
        _kernel = kernel;
        Dev = dev;
        _prot = prot;
        _maxprot = _origMaxprot = maxprot;
        _uoff = uoff;
        Id = Interlocked.Increment(ref s_nextId);
    }

    private static long s_nextId;

    /// <summary>A number unique in the host, for diagnostics.</summary>
    public long Id { get; }

    /// <summary>dh_dev: the device mapped.</summary>
    public DevT Dev { get; }

    /// <summary>dh_uoff: the device offset where this handle starts.</summary>
    public long Offset => _uoff;

    /// <summary>dh_len: the bytes this handle maps (0 until devmap_umem_setup succeeds).</summary>
    public long Length => _len;

    /// <summary>dh_prot: the protection the application asked for, PROT_USER included.</summary>
    public Prot Prot => _prot;

    /// <summary>dh_maxprot: the most this region may be mapped with.</summary>
    public Prot MaxProt => _maxprot;

    /// <summary>The driver's private data (set by devmap_map(9E), passed to devmap_unmap(9E)).</summary>
    public object? PrivateData => Pvtp;

    /// <summary>Why the last devmap_umem_setup(9F) on this handle failed, or null.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Where this handle starts inside the mapping (dh_uvaddr minus the mapping's base).</summary>
    internal long MappingOffset { get; set; }

    /// <summary>dh_roff: the offset into the cookie's memory (rounded down to a page).</summary>
    internal long KernelOffset => _roff;

    /// <summary>
    /// The cookie exported, on which the handle holds one reference of its own from devmap_umem_setup until it is
    /// freed (a piece split off by a hole unmap takes another), so memory the driver frees stays while mapped.
    /// </summary>
    internal UmemCookie? Cookie { get; private set; }

    internal DevmapCallbacks? Callbacks { get; private set; }

    internal DevmapFlags Flags => _flags;

    internal bool SetupDone => _setupDone;

    internal bool IsFreed { get; private set; }

    /// <summary>devmap_umem_setup(9F); see <see cref="Sunddi.DevmapUmemSetup"/> for the contract.</summary>
    internal DdiResult UmemSetup(DevmapCallbacks? callbacks, UmemCookie? cookie, long koff, long len, Prot maxprot, DevmapFlags flags)
    {
        if (IsFreed) return Fail("the handle was freed (its devmap(9E) call is over)");

        // 1. A NULL cookie.
        if (cookie is null) return Fail("cookie is NULL");
        // Umem: what C cannot express as a NULL check — a cookie of another allocator, freed, or of a kind that
        // cannot be exported — is refused here instead of being dereferenced.
        if (!ReferenceEquals(cookie.Owner, _kernel.Allocator))
            return Fail($"{cookie} belongs to another allocator than the host's");
        if (cookie.IsFreed) return Fail($"{cookie} was freed with ddi_umem_free");
        if (cookie.Type is not (UmemCookieType.KmemPageable or UmemCookieType.KmemNonPageable))
            return Fail($"{cookie} has type {cookie.Type}, which devmap_umem_setup cannot export here");
        if (koff < 0 || len <= 0)
            return Fail($"koff {koff} must be >= 0 and len {len} positive");

        // 2. koff+len beyond the cookie (the unrounded values, as illumos compares them).
        if (koff > cookie.Size - len)
            return Fail($"koff+len = {koff}+{len} exceeds the cookie's {cookie.Size} bytes");

        // 3. Cache attributes (i_ddi_check_cache_attr): none means IOMEM_DATA_CACHED; more than one bit, or an
        //    undefined one, fails.
        int cache = (int)(flags & DevmapFlags.CacheMask);
        if (cache != 0 && ((cache & (cache - 1)) != 0 ||
            (cache & (int)(DevmapFlags.DataCached | DevmapFlags.DataUncached | DevmapFlags.DataUncachedWriteCombine)) == 0))
            return Fail($"cache attributes 0x{cache:x} are not exactly one of IOMEM_DATA_CACHED, IOMEM_DATA_UNCACHED, IOMEM_DATA_UC_WR_COMBINE");

        // Umem: devmap_umem_setup(9F) defines only the DEVMAP_* and IOMEM_DATA_* bits; illumos ignores others, which
        //    hides a driver's mistake (a flag from another call, a typo), so any other bit is refused.
        const DevmapFlags known = DevmapFlags.MappingInvalid | DevmapFlags.AllowRemap | DevmapFlags.UsePageSize | DevmapFlags.CacheMask;
        if ((flags & ~known) != 0)
            return Fail($"flags 0x{(int)(flags & ~known):x} are not DEVMAP_* or IOMEM_DATA_* bits (devmap_umem_setup(9F): they must be 0)");

        // 4. Setup already done on this handle.
        if (_setupDone) return Fail("devmap_umem_setup was already called for this handle (DEVMAP_SETUP_DONE)");

        // 5. maxprot must cover what the application asked for, PROT_USER included.
        if ((_prot & _origMaxprot & maxprot) != _prot)
            return Fail($"maxprot {maxprot.Format()} does not cover the request's {_prot.Format()} (maxprot must include PROT_USER; drivers pass PROT_ALL)");

        // 6. MAPPING_INVALID needs ALLOW_REMAP; with it, Umem still refuses: a translation supplied later
        //    (devmap_umem_remap) cannot be pushed into another process's existing mapping.
        if ((flags & DevmapFlags.MappingInvalid) != 0)
        {
            return (flags & DevmapFlags.AllowRemap) == 0
                ? Fail("DEVMAP_MAPPING_INVALID without DEVMAP_ALLOW_REMAP")
                : Fail("DEVMAP_MAPPING_INVALID is not supported: Umem cannot remap a mapping another process holds");
        }

        long roff = Sunddi.Ptob(Sunddi.Btop(koff));     // rounded down, as illumos does
        long rlen = Sunddi.Ptob(Sunddi.Btopr(len));     // rounded up

        // Umem: a process receives whole memfds, so the region must start and end on the cookie's grant units.
        if (!cookie.Backing.TryGetExtents(roff, rlen, out _))
            return Fail($"[{roff}, {roff + rlen}) of {cookie} does not fall on its grant units of {cookie.GrantBytes} bytes");

        if (!cookie.TryAddReference()) return Fail($"{cookie} was freed with ddi_umem_free");

        Cookie = cookie;
        _roff = roff;
        _len = rlen;
        _maxprot = maxprot & _origMaxprot;
        _flags |= flags & (DevmapFlags.MappingInvalid | DevmapFlags.AllowRemap | DevmapFlags.UsePageSize);
        Callbacks = callbacks;
        _setupDone = true;
        FailureReason = null;
        return DdiResult.Success;
    }

    /// <summary>devmap_handle_reduce_len: drops <paramref name="bytes"/> from the front (a head unmap).</summary>
    internal void ReduceHead(long bytes)
    {
        _len -= bytes;
        _uoff += bytes;
        _roff += bytes;
        MappingOffset += bytes;
    }

    /// <summary>Cuts the handle to its first <paramref name="bytes"/> (a tail unmap).</summary>
    internal void TruncateTo(long bytes) => _len = bytes;

    /// <summary>The bcopy of a hole split: a new handle with this one's cookie (and a reference of its own on it), callbacks and private data.</summary>
    internal DevmapHandle Split() => Copy();

    /// <summary>devmap_handle_dup: the child's copy of the handle (same cookie, with a reference of its own, same callbacks and private data until devmap_dup(9E) sets its own).</summary>
    internal DevmapHandle Dup() => Copy();

    private DevmapHandle Copy()
    {
        var copy = new DevmapHandle(_kernel, Dev, _prot, _origMaxprot, _uoff)
        {
            _maxprot = _maxprot,
            _len = _len,
            _roff = _roff,
            _flags = _flags,
            _setupDone = _setupDone,
            Callbacks = Callbacks,
            Pvtp = Pvtp,
            MappingOffset = MappingOffset,
        };
        Cookie!.AddHeldReference();
        copy.Cookie = Cookie;
        return copy;
    }

    /// <summary>Frees the handle: drops its cookie reference and every driver object it kept.</summary>
    internal void Free()
    {
        if (IsFreed) return;
        IsFreed = true;
        Cookie?.Release();
        Cookie = null;
        Callbacks = null;
        Pvtp = null;
    }

    private DdiResult Fail(string reason)
    {
        FailureReason = $"devmap_umem_setup: {reason}";
        return DdiResult.Failure;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"devmap handle {Id} (dev {Dev}, off 0x{_uoff:x}, len {_len}, maxprot {_maxprot.Format()})");
}
