using System.Diagnostics.CodeAnalysis;
using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// Driver memory: ddi_umem_alloc(9F) and ddi_umem_free(9F). Every allocation is page-aligned, a whole number
/// of pages, zero-filled, and backed by sealed memfds so that ranges of it can later be mapped by other
/// processes. Without <see cref="UmemFlags.Pageable"/> the pages are locked in memory.
/// </summary>
/// <remarks>
/// The host gives drivers a budget (<see cref="UmemAllocatorOptions"/>): bytes in all, and bytes locked.
/// <see cref="UmemFlags.NoSleep"/> fails at once when the budget or the OS refuses; a sleeping allocation waits
/// until frees make room, in strict arrival order, so a stream of small requests cannot starve a large one.
/// Lock order: <c>_gate</c> is a leaf lock; no system call runs under it.
/// </remarks>
public sealed class UmemAllocator : IDisposable
{
    private readonly UmemAllocatorOptions _options;
    private readonly BackingCache _cache;
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();

    // All below are guarded by _gate.
    private long _pageableBytes, _lockedBytes, _pageableCount, _lockedCount;
    private long _peakBytes, _peakLockedBytes, _deferred, _allocations;
    private long _releaseGeneration;
    private bool _disposed;
    private long _nextId;

    public UmemAllocator(UmemAllocatorOptions? options = null)
    {
        _options = options ?? new UmemAllocatorOptions();
        _options.Validate();
        _cache = new BackingCache(_options.CacheBytes);
    }

    /// <summary>The options this allocator was made with.</summary>
    public UmemAllocatorOptions Options => _options;

    /// <summary>
    /// ddi_umem_alloc: allocates <paramref name="size"/> bytes rounded up to whole pages. With
    /// <see cref="UmemFlags.NoSleep"/> a refusal throws <see cref="ErrnoException"/> (ENOMEM or the OS's errno);
    /// use <see cref="TryAlloc"/> to get no cookie instead. Without it, the call blocks until memory is available.
    /// </summary>
    /// <param name="size">Bytes wanted; must be positive (ddi_umem_alloc returns NULL for 0).</param>
    /// <param name="flags">DDI_UMEM_SLEEP / NOSLEEP, and PAGEABLE.</param>
    /// <param name="grantPages">
    /// Pages per memfd: the smallest range that can be granted to a process on its own (Umem extension; the
    /// default of 1 lets a driver export any page range separately, as the seed's driver does).
    /// </param>
    public UmemCookie Alloc(long size, UmemFlags flags, int grantPages = 1)
    {
        Request req = Validate(size, flags, grantPages);
        return AllocCore(req, throwOnFailure: true, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
    }

    /// <summary>
    /// ddi_umem_alloc with DDI_UMEM_NOSLEEP as a Try-pattern: no cookie and no exception when the budget or the
    /// OS refuses. Argument errors still throw.
    /// </summary>
    public bool TryAlloc(long size, UmemFlags flags, [NotNullWhen(true)] out UmemCookie? cookie, int grantPages = 1)
    {
        Request req = Validate(size, flags | UmemFlags.NoSleep, grantPages);
        cookie = AllocCore(req, throwOnFailure: false, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return cookie is not null;
    }

    /// <summary>ddi_umem_alloc that waits asynchronously (DDI_UMEM_SLEEP); cancellable while it waits.</summary>
    public ValueTask<UmemCookie> AllocAsync(long size, UmemFlags flags, int grantPages = 1, CancellationToken cancellationToken = default)
    {
        Request req = Validate(size, flags, grantPages);
        return AllocCore(req, throwOnFailure: true, cancellationToken)!;
    }

    /// <summary>
    /// ddi_umem_free: returns the memory. If mappings still export the cookie, the memory stays until the last
    /// one goes; the cookie itself is dead at once.
    /// </summary>
    /// <exception cref="ArgumentNullException">A null (default) cookie.</exception>
    /// <exception cref="ArgumentException">A cookie of another allocator.</exception>
    /// <exception cref="InvalidOperationException">A cookie freed before (double free).</exception>
    public void Free(UmemCookie cookie)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        if (!ReferenceEquals(cookie.Owner, this))
            throw new ArgumentException($"ddi_umem_free: {cookie} belongs to another allocator", nameof(cookie));
        if (!cookie.TryMarkFreed())
            throw new InvalidOperationException($"ddi_umem_free: {cookie} was already freed (double free)");
        if (cookie.References > 1)
        {
            // Still exported: the memory outlives the cookie until the last mapping goes.
            cookie.WasDeferred = true;
            lock (_gate) _deferred++;
        }
        cookie.Release();
    }

    /// <summary>A snapshot of the counters.</summary>
    public UmemStatistics GetStatistics()
    {
        lock (_gate)
        {
            return new UmemStatistics
            {
                PageableBytes = _pageableBytes,
                PageableCount = _pageableCount,
                LockedBytes = _lockedBytes,
                LockedCount = _lockedCount,
                PeakBytes = _peakBytes,
                PeakLockedBytes = _peakLockedBytes,
                Waiters = _waiters.Count,
                DeferredCount = _deferred,
                CachedBytes = _cache.Bytes,
                CacheHits = _cache.Hits,
                TotalAllocations = _allocations,
            };
        }
    }

    /// <summary>Frees the cache. Live cookies stay valid; their memory is unmapped when they are released.</summary>
    public void Dispose()
    {
        List<Waiter> cancelled;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            cancelled = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var w in cancelled)
            w.Completion.TrySetException(new ObjectDisposedException(nameof(UmemAllocator)));
        _cache.Dispose();
    }

    private readonly record struct Request(long Bytes, long GrantBytes, bool Locked, bool NoSleep);

    private sealed class Waiter(Request request, long minGeneration)
    {
        public Request Request { get; } = request;

        /// <summary>Served only after a release newer than this (set when the OS, not the budget, refused).</summary>
        public long MinGeneration { get; } = minGeneration;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }

    private Request Validate(long size, UmemFlags flags, int grantPages)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "ddi_umem_alloc: size must be positive (a size of 0 returns NULL)");
        if ((flags & ~(UmemFlags.NoSleep | UmemFlags.Pageable)) != 0)
            throw new ArgumentException($"ddi_umem_alloc: unknown flags 0x{(int)flags:x} (DDI_UMEM_TRASH is not supported)", nameof(flags));
        ArgumentOutOfRangeException.ThrowIfLessThan(grantPages, 1);
        long bytes = SystemPage.PagesToBytes(SystemPage.BytesToPagesRoundUp(size));
        if (bytes < size) throw new ArgumentOutOfRangeException(nameof(size), size, "too large");
        long grant = Math.Min(SystemPage.PagesToBytes(grantPages), bytes);
        return new Request(bytes, grant, (flags & UmemFlags.Pageable) == 0, (flags & UmemFlags.NoSleep) != 0);
    }

    private async ValueTask<UmemCookie?> AllocCore(Request req, bool throwOnFailure, CancellationToken ct)
    {
        long minGeneration = -1;
        while (true)
        {
            // 1. Budget: charge at once, or fail (NoSleep), or queue behind earlier waiters.
            Waiter? waiter = null;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!CanEverFit(req))
                {
                    return throwOnFailure
                        ? throw new ErrnoException(Errno.ENOMEM, $"ddi_umem_alloc({req.Bytes}, {(req.Locked ? "locked" : "pageable")})",
                            $"larger than the host's budget of {(req.Locked ? _options.MaxLockedBytes : _options.MaxBytes)} bytes")
                        : null;
                }
                if (_waiters.Count == 0 && _releaseGeneration > minGeneration && Fits(req))
                {
                    Charge(req);
                }
                else if (req.NoSleep)
                {
                    return throwOnFailure
                        ? throw new ErrnoException(Errno.ENOMEM, $"ddi_umem_alloc({req.Bytes}, DDI_UMEM_NOSLEEP)", "the budget is exhausted")
                        : null;
                }
                else
                {
                    waiter = new Waiter(req, minGeneration);
                    waiter.Node = _waiters.AddLast(waiter);
                }
            }

            if (waiter is not null)
                await WaitAsync(waiter, ct).ConfigureAwait(false); // charged for us when it completes

            // 2. Memory: from the cache, else new. The charge is already ours; undo it on failure.
            UmemBacking backing;
            try
            {
                backing = _cache.TryTake(req.Bytes, req.GrantBytes, req.Locked)
                    ?? UmemBacking.Create(_options.Name, req.Bytes, req.GrantBytes, req.Locked);
            }
            catch (ErrnoException e) when (e.Errno is Errno.ENOMEM or Errno.EAGAIN or Errno.EPERM)
            {
                long generation;
                lock (_gate)
                {
                    generation = _releaseGeneration;
                }
                var granted = Uncharge(req, countAsRelease: false);
                Complete(granted);
                if (req.NoSleep)
                {
                    if (throwOnFailure) throw;
                    return null;
                }
                minGeneration = generation; // the OS refused: wait for a release, then try again
                continue;
            }
            catch
            {
                Complete(Uncharge(req, countAsRelease: false));
                throw;
            }

            long id;
            lock (_gate)
            {
                id = ++_nextId;
                _allocations++;
            }
            return new UmemCookie(this, backing, id);
        }
    }

    private async ValueTask WaitAsync(Waiter waiter, CancellationToken ct)
    {
        if (!ct.CanBeCanceled)
        {
            await waiter.Completion.Task.ConfigureAwait(false);
            return;
        }
        using (ct.Register(static s =>
        {
            var (allocator, w) = ((UmemAllocator, Waiter))s!;
            allocator.Cancel(w);
        }, (this, waiter)))
            await waiter.Completion.Task.ConfigureAwait(false);
    }

    private void Cancel(Waiter waiter)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            if (waiter.Node?.List is null) return; // already served
            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            granted = Pump();
        }
        waiter.Completion.TrySetCanceled();
        Complete(granted);
    }

    /// <summary>Called by the cookie when its last reference goes.</summary>
    internal void ReleaseBacking(UmemCookie cookie)
    {
        UmemBacking backing = cookie.Backing;
        var req = new Request(backing.Size, backing.GrantBytes, backing.Locked, NoSleep: false);
        bool keep = false;
        if (!backing.EverGranted && !_disposed)
        {
            try
            {
                backing.Zero();
                keep = _cache.TryPut(backing);
            }
            catch (ErrnoException)
            {
                keep = false; // could not re-zero: do not reuse
            }
        }
        if (!keep) backing.Dispose();
        List<Waiter> granted;
        lock (_gate)
        {
            if (cookie.WasDeferred) _deferred--;
            granted = UnchargeLocked(req, countAsRelease: true);
        }
        Complete(granted);
    }

    private List<Waiter> Uncharge(Request req, bool countAsRelease)
    {
        lock (_gate) return UnchargeLocked(req, countAsRelease);
    }

    private List<Waiter> UnchargeLocked(Request req, bool countAsRelease)
    {
        if (req.Locked)
        {
            _lockedBytes -= req.Bytes;
            _lockedCount--;
        }
        else
        {
            _pageableBytes -= req.Bytes;
            _pageableCount--;
        }
        if (countAsRelease) _releaseGeneration++;
        return Pump();
    }

    /// <summary>Serves waiters from the head while they fit; strict FIFO, so the head blocks those behind it.</summary>
    private List<Waiter> Pump()
    {
        List<Waiter>? granted = null;
        while (_waiters.First is { } node)
        {
            Waiter w = node.Value;
            if (_releaseGeneration <= w.MinGeneration || !Fits(w.Request)) break;
            _waiters.RemoveFirst();
            w.Node = null;
            Charge(w.Request);
            (granted ??= []).Add(w);
        }
        return granted ?? s_none;
    }

    private static readonly List<Waiter> s_none = [];

    private static void Complete(List<Waiter> granted)
    {
        foreach (var w in granted) w.Completion.TrySetResult();
    }

    private bool CanEverFit(Request r) =>
        r.Bytes <= _options.MaxBytes && (!r.Locked || r.Bytes <= _options.MaxLockedBytes);

    private bool Fits(Request r) =>
        _pageableBytes + _lockedBytes + r.Bytes <= _options.MaxBytes
        && (!r.Locked || _lockedBytes + r.Bytes <= _options.MaxLockedBytes);

    private void Charge(Request r)
    {
        if (r.Locked)
        {
            _lockedBytes += r.Bytes;
            _lockedCount++;
            _peakLockedBytes = Math.Max(_peakLockedBytes, _lockedBytes);
        }
        else
        {
            _pageableBytes += r.Bytes;
            _pageableCount++;
        }
        _peakBytes = Math.Max(_peakBytes, _pageableBytes + _lockedBytes);
    }
}
