namespace Umem.Kernel.Memory;

/// <summary>A snapshot of an allocator's counters.</summary>
public readonly record struct UmemStatistics
{
    /// <summary>Live cookies of pageable memory (counted from the moment the budget is charged).</summary>
    public long PageableCount { get; init; }

    /// <summary>Bytes of live pageable memory.</summary>
    public long PageableBytes { get; init; }

    /// <summary>Live cookies of locked memory.</summary>
    public long LockedCount { get; init; }

    /// <summary>Bytes of live locked memory.</summary>
    public long LockedBytes { get; init; }

    /// <summary>Memfds of live cookies (each one fd and one mapping of the host), counted from the charge.</summary>
    public long Memfds { get; init; }

    /// <summary>Highest <see cref="Memfds"/> seen.</summary>
    public long PeakMemfds { get; init; }

    /// <summary>Highest <c>PageableBytes + LockedBytes</c> seen.</summary>
    public long PeakBytes { get; init; }

    /// <summary>Highest <see cref="PageableBytes"/> seen.</summary>
    public long PeakPageableBytes { get; init; }

    /// <summary>Highest <see cref="LockedBytes"/> seen.</summary>
    public long PeakLockedBytes { get; init; }

    /// <summary>Callers waiting in a DDI_UMEM_SLEEP allocation now.</summary>
    public int Waiters { get; init; }

    /// <summary>Cookies freed by the driver whose memory is still held by mappings.</summary>
    public long DeferredCount { get; init; }

    /// <summary>Attempts the OS refused (memory, locked-memory limit, descriptors), each retry counted.</summary>
    public long OsRefusals { get; init; }

    /// <summary>Bytes of released backing kept for reuse.</summary>
    public long CachedBytes { get; init; }

    /// <summary>Released backings kept for reuse.</summary>
    public long CachedCount { get; init; }

    /// <summary>Allocations served from the cache since the start.</summary>
    public long CacheHits { get; init; }

    /// <summary>Cached backings unmapped to make room for newer ones, since the start.</summary>
    public long CacheEvictions { get; init; }

    /// <summary>Successful allocations since the start.</summary>
    public long TotalAllocations { get; init; }

    /// <summary>Bytes counted against <see cref="UmemAllocatorOptions.MaxBytes"/>.</summary>
    public long TotalBytes => PageableBytes + LockedBytes;
}
