using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Umem.Kernel.Memory;

namespace Umem.Kernel.Ddi;

/// <summary>
/// ddi_umem_alloc(9F) and ddi_umem_free(9F) for one module: the shared <see cref="UmemAllocator"/> with an
/// account of which cookies this module holds and where each was allocated. When the module unloads, cookies it
/// never freed are reported (module, size, allocation site) and reclaimed rather than leaked silently.
/// </summary>
public sealed class ModuleAllocator
{
    private readonly UmemAllocator _shared;
    private readonly string _module;
    private readonly bool _captureStacks;
    private readonly Lock _gate = new();
    private readonly Dictionary<UmemCookie, AllocationSite> _live = new(ReferenceEqualityComparer.Instance);
    private long _allocations, _frees, _liveBytes;
    private bool _closed;

    internal ModuleAllocator(UmemAllocator shared, string module, bool captureStacks)
    {
        _shared = shared;
        _module = module;
        _captureStacks = captureStacks;
    }

    /// <summary>
    /// ddi_umem_alloc(9F): <paramref name="size"/> bytes rounded up to whole pages, zero-filled; locked unless
    /// <see cref="UmemFlags.Pageable"/>. With <see cref="UmemFlags.NoSleep"/> a refusal throws (ENOMEM); use
    /// <see cref="TryAlloc"/> for the DDI's NULL. <paramref name="grantPages"/> (a Umem extension) is the smallest
    /// piece a process can be granted on its own: by default pages for cookies of up to 64 pages, larger power-of-two
    /// units beyond, so a cookie has at most 64 memfds; pass 1 to export any page of a larger cookie separately.
    /// The caller arguments are filled in by the compiler and name the allocation site in a leak report.
    /// </summary>
    public UmemCookie Alloc(long size, UmemFlags flags, int grantPages = UmemAllocator.AutoGrantPages,
        [CallerMemberName] string caller = "", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ThrowIfClosed();
        UmemCookie cookie = _shared.Alloc(size, flags, grantPages);
        Track(cookie, caller, file, line);
        return cookie;
    }

    /// <summary>
    /// ddi_umem_alloc(9F) with DDI_UMEM_NOSLEEP: false (the DDI's NULL) when memory is not available now or the size
    /// is 0. <paramref name="grantPages"/> as for <see cref="Alloc"/>.
    /// </summary>
    public bool TryAlloc(long size, UmemFlags flags, [NotNullWhen(true)] out UmemCookie? cookie, int grantPages = UmemAllocator.AutoGrantPages,
        [CallerMemberName] string caller = "", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ThrowIfClosed();
        if (!_shared.TryAlloc(size, flags, out cookie, grantPages)) return false;
        Track(cookie, caller, file, line);
        return true;
    }

    /// <summary>
    /// ddi_umem_free(9F). Mappings that still export the cookie keep the memory until they go; the cookie is dead
    /// at once.
    /// </summary>
    /// <exception cref="ArgumentNullException">A null cookie.</exception>
    /// <exception cref="InvalidOperationException">A cookie freed before (double free).</exception>
    /// <exception cref="ArgumentException">A cookie this module did not allocate.</exception>
    public void Free(UmemCookie cookie)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        lock (_gate)
        {
            if (cookie.IsFreed)
                throw new InvalidOperationException($"ddi_umem_free: {cookie} was already freed (double free)");
            if (!_live.Remove(cookie))
                throw new ArgumentException($"ddi_umem_free: {cookie} was not allocated by module {_module}", nameof(cookie));
            _frees++;
            _liveBytes -= cookie.Size;
        }
        _shared.Free(cookie);
    }

    /// <summary>Cookies this module holds now.</summary>
    public int LiveCount
    {
        get
        {
            lock (_gate) return _live.Count;
        }
    }

    /// <summary>Bytes this module holds now.</summary>
    public long LiveBytes
    {
        get
        {
            lock (_gate) return _liveBytes;
        }
    }

    /// <summary>Allocations since the module loaded.</summary>
    public long TotalAllocations
    {
        get
        {
            lock (_gate) return _allocations;
        }
    }

    /// <summary>Frees since the module loaded.</summary>
    public long TotalFrees
    {
        get
        {
            lock (_gate) return _frees;
        }
    }

    /// <summary>True when <paramref name="cookie"/> is live and this module allocated it.</summary>
    internal bool Owns(UmemCookie cookie)
    {
        lock (_gate) return _live.ContainsKey(cookie);
    }

    /// <summary>Closes the account and frees every cookie still in it, returning one leak record per cookie.</summary>
    internal List<LeakRecord> CloseAndReclaim()
    {
        List<KeyValuePair<UmemCookie, AllocationSite>> left;
        lock (_gate)
        {
            _closed = true;
            left = [.. _live.OrderBy(kv => kv.Key.Id)];
            _live.Clear();
            _liveBytes = 0;
        }
        var leaks = new List<LeakRecord>(left.Count);
        foreach (var (cookie, site) in left)
        {
            // Mapped-and-leaked cannot happen here (unload is refused while mapped), but the allocator's
            // deferral would keep such memory until its last mapping went anyway.
            bool stillExported = cookie.References > 1;
            leaks.Add(new LeakRecord(_module, cookie.Id, cookie.Size, cookie.Type, site, stillExported));
            _shared.Free(cookie);
        }
        return leaks;
    }

    private void Track(UmemCookie cookie, string caller, string file, int line)
    {
        var site = new AllocationSite(caller, file, line, _captureStacks ? new StackTrace(2, fNeedFileInfo: true).ToString() : null);
        lock (_gate)
        {
            if (!_closed)
            {
                _live.Add(cookie, site);
                _allocations++;
                _liveBytes += cookie.Size;
                return;
            }
        }
        _shared.Free(cookie); // the module unloaded while this allocation was in flight
        throw new InvalidOperationException($"ddi_umem_alloc: module {_module} is unloaded");
    }

    private void ThrowIfClosed()
    {
        lock (_gate)
        {
            if (_closed) throw new InvalidOperationException($"ddi_umem_alloc: module {_module} is unloaded");
        }
    }
}
