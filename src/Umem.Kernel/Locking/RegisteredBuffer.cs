using Umem.Platform;

namespace Umem.Kernel.Locking;

/// <summary>
/// Application memory a process registered: a memfd the application has mapped at <see cref="UserAddress"/>,
/// mapped MAP_SHARED into the host as well, so locking the host's pages locks the application's.
/// </summary>
/// <remarks>
/// mlock does not nest, so the buffer keeps a lock count per page: a page is mlock'ed when its count leaves 0
/// and munlock'ed when it returns to 0. The host mapping lives while the buffer is registered or any lock
/// cookie still holds it; a driver's span over locked memory therefore never outlives the mapping.
/// Lock order: the process's table lock, then a buffer's <c>_gate</c>; mlock/munlock run under <c>_gate</c>
/// (they must agree with the counts), driver callbacks never do.
/// </remarks>
public sealed class RegisteredBuffer
{
    private readonly Lock _gate = new();
    private readonly MappedRegion _host;
    private readonly MappedRegion? _application;
    // Lock counts of the pages that are locked now, by page index: as large as what is locked (which the locked-memory
    // limits bound), never as large as what a client registered.
    private readonly Dictionary<long, int> _pageLocks = [];
    private readonly HashSet<UmemLockCookie> _callbackCookies = [];
    private int _references = 1;
    private bool _registered = true;

    internal RegisteredBuffer(UmemProcess process, long id, ulong userAddress, long length, MappedRegion host, bool writable, MappedRegion? application)
    {
        Process = process;
        Id = id;
        UserAddress = userAddress;
        Length = length;
        _host = host;
        Writable = writable;
        _application = application;
    }

    /// <summary>The process that registered it.</summary>
    public UmemProcess Process { get; }

    /// <summary>The id REGISTER returns and UNREGISTER takes.</summary>
    public long Id { get; }

    /// <summary>Where the application has the memory mapped, in its own address space.</summary>
    public ulong UserAddress { get; }

    /// <summary>Bytes (whole pages).</summary>
    public long Length { get; }

    /// <summary>Where the host has the same memory mapped.</summary>
    public nint HostAddress => _host.Address;

    /// <summary>False when the memfd was passed read-only: then WRITE locks are refused (EACCES).</summary>
    public bool Writable { get; }

    /// <summary>True until unregistered (or the process exits).</summary>
    public bool IsRegistered
    {
        get
        {
            lock (_gate) return _registered;
        }
    }

    /// <summary>Bytes of this buffer currently mlock'ed (pages with a lock count above zero).</summary>
    public long LockedBytes
    {
        get
        {
            lock (_gate) return SystemPage.PagesToBytes(_pageLocks.Count);
        }
    }

    /// <summary>The lock count of one page (for tests).</summary>
    internal int PageLockCount(long pageIndex)
    {
        lock (_gate) return _pageLocks.GetValueOrDefault(pageIndex);
    }

    /// <summary>True when [address, address+length) lies inside this buffer.</summary>
    internal bool Contains(ulong address, ulong length) =>
        address >= UserAddress && length <= (ulong)Length && address - UserAddress <= (ulong)Length - length;

    internal bool Overlaps(ulong address, ulong length) =>
        address < UserAddress + (ulong)Length && UserAddress < address + length;

    /// <summary>The application's own mapping, when the buffer was made in-process (<see cref="UmemProcess.AllocateBuffer"/>).</summary>
    internal MappedRegion? ApplicationMapping => _application;

    /// <summary>
    /// Takes a reference for <paramref name="cookie"/> and mlocks the pages whose count leaves zero. EFAULT when
    /// the buffer is no longer registered; mlock's errno when the OS refuses (nothing is left changed).
    /// </summary>
    internal Errno Acquire(UmemLockCookie cookie, long firstPage, long pageCount)
    {
        lock (_gate)
        {
            if (!_registered) return Errno.EFAULT;
            Errno e = ForEachRun(firstPage, pageCount, wanted: 0, (run, n) =>
                AddressSpace.Lock(PageAddress(run), SystemPage.PagesToBytes(n)),
                out long doneUpTo);
            if (e != Errno.None)
            {
                // Undo the runs already locked in this call, then report mlock's error.
                ForEachRun(firstPage, doneUpTo - firstPage, wanted: 0, (run, n) =>
                {
                    _ = AddressSpace.Unlock(PageAddress(run), SystemPage.PagesToBytes(n));
                    return Errno.None;
                }, out _);
                return e;
            }
            for (long p = firstPage; p < firstPage + pageCount; p++) System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pageLocks, p, out _)++;
            _references++;
            if (cookie.Callbacks is not null) _callbackCookies.Add(cookie);
            return Errno.None;
        }
    }

    /// <summary>Drops a cookie's pages and reference; munlocks pages whose count reaches zero.</summary>
    internal void Release(UmemLockCookie cookie, long firstPage, long pageCount)
    {
        lock (_gate)
        {
            for (long p = firstPage; p < firstPage + pageCount; p++)
            {
                if (!_pageLocks.TryGetValue(p, out int count))
                    throw new InvalidOperationException($"buffer {Id}: page {p} unlocked more often than locked");
                if (count == 1) _pageLocks.Remove(p);
                else _pageLocks[p] = count - 1;
            }
            ForEachRun(firstPage, pageCount, wanted: 0, (run, n) =>
                AddressSpace.Unlock(PageAddress(run), SystemPage.PagesToBytes(n)) is var e && e == Errno.None
                    ? Errno.None
                    : throw new ErrnoException(e, $"munlock(0x{PageAddress(run):x}, {SystemPage.PagesToBytes(n)})"),
                out _);
            _callbackCookies.Remove(cookie);
            DropReference();
        }
    }

    /// <summary>
    /// Ends the registration: no new locks, and the cookies that have a cleanup callback are returned so the
    /// caller can run the callbacks (outside every lock) and force-release them. Returns null if already done.
    /// </summary>
    internal List<UmemLockCookie>? Unregister()
    {
        lock (_gate)
        {
            if (!_registered) return null;
            _registered = false;
            var cookies = _callbackCookies.ToList();
            DropReference();
            return cookies;
        }
    }

    internal unsafe Span<byte> GetHostSpan(long offset, int length) =>
        new((byte*)_host.Address + offset, length);

    private nint PageAddress(long page) => _host.Address + (nint)SystemPage.PagesToBytes(page);

    private void DropReference()
    {
        if (--_references > 0) return;
        // The last reference: no cookie holds a page, so every count is zero and munmap drops nothing locked.
        _host.Dispose();
        _application?.Dispose();
    }

    /// <summary>
    /// Calls <paramref name="action"/> for each maximal run of pages in [first, first+count) whose lock count is
    /// <paramref name="wanted"/>; stops at the first error, reporting where the failed run began.
    /// </summary>
    private Errno ForEachRun(long first, long count, int wanted, Func<long, long, Errno> action, out long failedAt)
    {
        long end = first + count;
        long p = first;
        failedAt = end;
        while (p < end)
        {
            if (_pageLocks.GetValueOrDefault(p) != wanted)
            {
                p++;
                continue;
            }
            long start = p;
            while (p < end && _pageLocks.GetValueOrDefault(p) == wanted) p++;
            Errno e = action(start, p - start);
            if (e != Errno.None)
            {
                failedAt = start;
                return e;
            }
        }
        return Errno.None;
    }

    public override string ToString() => $"buffer {Id} at 0x{UserAddress:x} ({Length} bytes) of pid {Process.Cred.Pid}";
}
