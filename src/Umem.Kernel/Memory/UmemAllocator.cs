using System.Diagnostics.CodeAnalysis;
using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// Driver memory: ddi_umem_alloc(9F) and ddi_umem_free(9F). Every allocation is page-aligned, a whole number
/// of pages, zero-filled, and backed by sealed memfds so that ranges of it can later be mapped by other
/// processes. Without <see cref="UmemFlags.Pageable"/> the pages are locked in memory.
/// </summary>
/// <remarks>
/// <para>
/// An allocation takes two steps: the budget is charged (<c>UmemAllocator.Budget.cs</c>: at once, or after
/// waiting in line, or refused), then the memory is made or taken from the cache. If the OS refuses the memory,
/// the charge is given back; a sleeping caller then waits for a release (or a back-off) and tries again.
/// </para>
/// <para>
/// Lock order: <c>_gate</c> and the cache's lock are leaves, never held together; no system call runs under either.
/// </para>
/// </remarks>
public sealed partial class UmemAllocator : IDisposable
{
    private readonly UmemAllocatorOptions _options;
    private readonly BackingCache _cache;
    private long _nextId;
    private long _deferred;
    private long _osRefusals;

    public UmemAllocator(UmemAllocatorOptions? options = null)
    {
        _options = options ?? new UmemAllocatorOptions();
        _options.Validate();
        _cache = new BackingCache(_options.CacheBytes, _options.CacheFds);
    }

    /// <summary>
    /// The grantPages that leaves the grant unit to the allocator: page units up to 64 pages, then power-of-two
    /// units, at most 64 memfds per cookie (see docs/design.md, driver memory).
    /// </summary>
    public const int AutoGrantPages = 0;

    /// <summary>The options this allocator was made with.</summary>
    public UmemAllocatorOptions Options => _options;

    /// <summary>
    /// ddi_umem_alloc: allocates <paramref name="size"/> bytes rounded up to whole pages. With
    /// <see cref="UmemFlags.NoSleep"/> a refusal throws <see cref="ErrnoException"/> (ENOMEM from the budget of
    /// bytes, memfds and mappings, or the OS's errno); use <see cref="TryAlloc"/> to get no cookie instead. Without
    /// it, the call blocks until memory is available; a request the budget can never hold fails at once (ENOMEM).
    /// </summary>
    /// <param name="size">Bytes wanted; must be positive (ddi_umem_alloc returns NULL for 0).</param>
    /// <param name="flags">DDI_UMEM_SLEEP / NOSLEEP, and PAGEABLE.</param>
    /// <param name="grantPages">
    /// Pages per memfd: the smallest range that can be granted to a process on its own (Umem extension). The
    /// default, <see cref="AutoGrantPages"/>, grants cookies of up to 64 pages by page (as the seed's driver needs)
    /// and larger ones in power-of-two units, at most 64 per cookie. A driver that exports smaller pieces of a
    /// larger cookie asks for them: <c>grantPages: 1</c> makes every page a memfd of its own.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A size of 0 or less, or too large; a negative grantPages.</exception>
    /// <exception cref="ArgumentException">Unknown flags, DDI_UMEM_TRASH among them.</exception>
    /// <exception cref="ErrnoException">
    /// ENOMEM: more bytes, memfds or mappings than the whole budget, or NOSLEEP and no room; or the OS refused.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The allocator was disposed (also while waiting).</exception>
    public UmemCookie Alloc(long size, UmemFlags flags, int grantPages = AutoGrantPages)
    {
        Request req = Validate(size, flags, grantPages);
        var ticket = new Ticket();
        _ = Admit(req, ref ticket, throwOnRefusal: true, out Waiter? waiter);
        while (true)
        {
            if (waiter is not null)
            {
                try
                {
                    // The completion is set by whoever serves the line; a blocking wait needs no other thread.
                    waiter.Completion.Task.GetAwaiter().GetResult();
                }
                finally
                {
                    waiter.Dispose();
                }
            }
            if (TryMaterialize(req, ref ticket, throwOnRefusal: true, out UmemCookie? cookie, out waiter))
                return cookie;
        }
    }

    /// <summary>
    /// ddi_umem_alloc with DDI_UMEM_NOSLEEP as a Try-pattern: no cookie and no exception when the budget or the
    /// OS refuses, and for a size of 0 (ddi_umem_alloc(9F) returns NULL for it, so a ported NULL check works).
    /// Other argument errors still throw, a negative size among them.
    /// </summary>
    public bool TryAlloc(long size, UmemFlags flags, [NotNullWhen(true)] out UmemCookie? cookie, int grantPages = AutoGrantPages)
    {
        if (size == 0)
        {
            cookie = null;
            return false;
        }
        Request req = Validate(size, flags | UmemFlags.NoSleep, grantPages);
        var ticket = new Ticket();
        cookie = null;
        return Admit(req, ref ticket, throwOnRefusal: false, out _)
            && TryMaterialize(req, ref ticket, throwOnRefusal: false, out cookie, out _);
    }

    /// <summary>
    /// ddi_umem_alloc that waits asynchronously (DDI_UMEM_SLEEP), cancellable while it waits. Cancelling gives
    /// up the caller's place in line; those behind it move up.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before memory was granted.</exception>
    public ValueTask<UmemCookie> AllocAsync(long size, UmemFlags flags, int grantPages = AutoGrantPages, CancellationToken cancellationToken = default)
    {
        Request req = Validate(size, flags, grantPages);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<UmemCookie>(cancellationToken);
        return AllocAsyncCore(req, cancellationToken);
    }

    private async ValueTask<UmemCookie> AllocAsyncCore(Request req, CancellationToken ct)
    {
        var ticket = new Ticket();
        _ = Admit(req, ref ticket, throwOnRefusal: true, out Waiter? waiter);
        while (true)
        {
            if (waiter is not null)
            {
                try
                {
                    await WaitAsync(waiter, ct).ConfigureAwait(false);
                }
                finally
                {
                    waiter.Dispose();
                }
            }
            if (TryMaterialize(req, ref ticket, throwOnRefusal: true, out UmemCookie? cookie, out waiter))
                return cookie;
        }
    }

    /// <summary>
    /// ddi_umem_free: returns the memory and its budget, and wakes waiters. If mappings still export the cookie,
    /// the memory stays until the last one goes; the cookie itself is dead at once.
    /// </summary>
    /// <exception cref="ArgumentNullException">A null cookie (illumos ignores NULL; Umem says so).</exception>
    /// <exception cref="ArgumentException">A cookie of another allocator.</exception>
    /// <exception cref="InvalidOperationException">A cookie freed before (double free).</exception>
    public void Free(UmemCookie cookie)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        if (!ReferenceEquals(cookie.Owner, this))
            throw new ArgumentException($"ddi_umem_free: {cookie} belongs to another allocator", nameof(cookie));
        // Counted before the free so that a concurrent last Release, which uncounts it, never finds it missing.
        Interlocked.Increment(ref _deferred);
        switch (cookie.TryFree())
        {
            case FreeOutcome.Released:
                Interlocked.Decrement(ref _deferred);
                ReleaseBacking(cookie, deferred: false);
                break;
            case FreeOutcome.Deferred:
                break; // exports still map it: the last Release returns the memory
            default:
                Interlocked.Decrement(ref _deferred);
                throw new InvalidOperationException($"ddi_umem_free: {cookie} was already freed (double free)");
        }
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
                Memfds = _memfds,
                PeakMemfds = _peakMemfds,
                PeakBytes = _peakBytes,
                PeakPageableBytes = _peakPageableBytes,
                PeakLockedBytes = _peakLockedBytes,
                Waiters = _waiters.Count,
                DeferredCount = Interlocked.Read(ref _deferred),
                OsRefusals = Interlocked.Read(ref _osRefusals),
                CachedBytes = _cache.Bytes,
                CachedCount = _cache.Count,
                CacheHits = _cache.Hits,
                CacheEvictions = _cache.Evictions,
                TotalAllocations = Interlocked.Read(ref _nextId),
            };
        }
    }

    /// <summary>
    /// Frees the cache and fails every waiter with <see cref="ObjectDisposedException"/>. Live cookies stay valid;
    /// their memory is unmapped when they are freed.
    /// </summary>
    public void Dispose()
    {
        List<Waiter> waiters;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            waiters = [.. _waiters];
            _waiters.Clear();
            foreach (var w in waiters) w.Node = null;
        }
        foreach (var w in waiters)
            w.Completion.TrySetException(new ObjectDisposedException(nameof(UmemAllocator), "the allocator was disposed while the allocation waited"));
        _cache.Dispose();
    }

    /// <summary>
    /// The second step of an allocation, with the budget already charged: memory from the cache, else new. On
    /// failure the charge is given back. When the OS refuses a sleeping caller, false with
    /// <paramref name="requeued"/> set: the caller is back in line at its old place, to wait and try again. When
    /// it refuses NOSLEEP, the OS's error is thrown, or false without it.
    /// </summary>
    private bool TryMaterialize(in Request req, ref Ticket ticket, bool throwOnRefusal,
        [NotNullWhen(true)] out UmemCookie? cookie, out Waiter? requeued)
    {
        cookie = null;
        requeued = null;
        bool retry = ticket.Refusals > 0;
        // Read before trying, so a release that lands while the OS refuses still counts as news for the retry.
        long generation = Volatile.Read(ref _releaseGeneration);
        UmemBacking? backing = _cache.TryTake(req.Bytes, req.GrantBytes, req.Locked);
        if (backing is null)
        {
            try
            {
                backing = CreateBacking(req);
            }
            catch (ErrnoException e) when (IsOsRefusal(e.Errno))
            {
                Interlocked.Increment(ref _osRefusals);
                ErrnoException? never = NeverFromTheOs(req, e.Errno);
                if (!req.NoSleep && never is null)
                {
                    requeued = Requeue(req, ref ticket, generation);
                    return false;
                }
                Complete(Uncharge(req, released: false, endRetry: retry));
                if (!throwOnRefusal) return false;
                if (never is not null) throw never;
                throw;
            }
            catch
            {
                Complete(Uncharge(req, released: false, endRetry: retry));
                throw;
            }
        }
        cookie = new UmemCookie(this, backing, Interlocked.Increment(ref _nextId));
        if (retry) Complete(EndRetry());
        return true;
    }

    private UmemBacking CreateBacking(in Request req)
    {
        try
        {
            return UmemBacking.Create(_options.Name, req.Bytes, req.GrantBytes, req.Locked);
        }
        catch (ErrnoException e) when (IsOsRefusal(e.Errno) && _cache.Trim() > 0)
        {
            // Cached backing holds memory, fds and locked-memory quota of its own: give it back, try once more.
            return UmemBacking.Create(_options.Name, req.Bytes, req.GrantBytes, req.Locked);
        }
    }

    /// <summary>
    /// An fd refusal for more memfds than the process may have open at all (its soft RLIMIT_NOFILE, lowered below
    /// <see cref="UmemAllocatorOptions.MaxFds"/>): no release can make room, so even DDI_UMEM_SLEEP fails at once.
    /// Null when waiting may help. The limit is read here only, on the refusal path.
    /// </summary>
    private static ErrnoException? NeverFromTheOs(in Request req, Errno errno)
    {
        if (errno != Errno.EMFILE) return null;
        ulong soft = ProcessLimits.SoftFileLimit();
        return (ulong)req.Units < soft
            ? null
            : new ErrnoException(Errno.EMFILE, $"ddi_umem_alloc({req.Bytes}, {Describe(req)})",
                $"needs {req.Units} memfds, and RLIMIT_NOFILE allows {soft} open fds in all");
    }

    /// <summary>Errors that mean "not now": out of memory, locked-memory limit, fd limits. Others are bugs.</summary>
    private static bool IsOsRefusal(Errno errno) =>
        errno is Errno.ENOMEM or Errno.EAGAIN or Errno.EPERM or Errno.EMFILE or Errno.ENFILE or Errno.ENOSPC;

    /// <summary>Called when a cookie's last reference goes: re-zero and cache the backing, or unmap it.</summary>
    internal void ReleaseBacking(UmemCookie cookie, bool deferred)
    {
        UmemBacking backing = cookie.Backing;
        bool kept = false;
        // Backing a process ever received is never reused: that process may keep the fd forever.
        if (!backing.EverGranted && _cache.CanKeep(backing.Size, backing.Extents.Length))
        {
            try
            {
                backing.Zero();
                kept = _cache.TryPut(backing);
            }
            catch (ErrnoException)
            {
                kept = false; // could not re-zero: never reuse it
            }
        }
        if (!kept) backing.Dispose();
        if (deferred) Interlocked.Decrement(ref _deferred);
        Complete(Uncharge(new Request(backing.Size, backing.GrantBytes, backing.Locked, NoSleep: false), released: true));
    }

    private Request Validate(long size, UmemFlags flags, int grantPages)
    {
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "ddi_umem_alloc: size must be positive (a size of 0 returns NULL)");
        if ((flags & ~(UmemFlags.NoSleep | UmemFlags.Pageable)) != 0)
            throw new ArgumentException($"ddi_umem_alloc: unknown flags 0x{(int)flags:x} (DDI_UMEM_TRASH is not supported)", nameof(flags));
        ArgumentOutOfRangeException.ThrowIfNegative(grantPages);
        // ddi_umem_alloc(9F): len = ptob(btopr(size)).
        long bytes = SystemPage.PagesToBytes(SystemPage.BytesToPagesRoundUp(size));
        if (bytes < size)
            throw new ArgumentOutOfRangeException(nameof(size), size, "ddi_umem_alloc: size is too large to round up to whole pages");
        long grant = grantPages == AutoGrantPages
            ? UmemBacking.AutoGrantBytes(bytes)
            : Math.Min(SystemPage.PagesToBytes(grantPages), bytes);
        if ((bytes - 1) / grant >= Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"ddi_umem_alloc: too many grant units of {grant} bytes");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        return new Request(bytes, grant, (flags & UmemFlags.Pageable) == 0, (flags & UmemFlags.NoSleep) != 0);
    }

    private readonly record struct Request(long Bytes, long GrantBytes, bool Locked, bool NoSleep)
    {
        /// <summary>Memfds the backing has: each one fd and one mapping in the host.</summary>
        public long Units => UmemBacking.UnitCount(Bytes, GrantBytes);
    }

    /// <summary>A caller's place in line (its arrival number, kept across OS refusals) and how often the OS refused it.</summary>
    private record struct Ticket(long Number, int Refusals);
}
