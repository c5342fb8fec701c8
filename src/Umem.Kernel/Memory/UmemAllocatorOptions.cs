namespace Umem.Kernel.Memory;

/// <summary>The host's budget for driver memory, and the cache of released backing.</summary>
public sealed record UmemAllocatorOptions
{
    /// <summary>Bytes of driver memory that may be allocated at once, pageable and locked together.</summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of locked (non-pageable) driver memory that may be allocated at once.</summary>
    public long MaxLockedBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Bytes of released backing kept mapped and zeroed for reuse. Backing that any process other than the host
    /// ever received is never cached. 0 turns the cache off.
    /// </summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Memfds the cache may keep open (every one is an fd of the host; with the default grant unit of one page,
    /// each cached page is one). 0 turns the cache off.
    /// </summary>
    public int CacheFds { get; init; } = 1024;

    /// <summary>A name for the memfds (visible in /proc/PID/fd and /proc/PID/maps as "memfd:NAME").</summary>
    public string Name { get; init; } = "umem";

    internal void Validate()
    {
        if (MaxBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "must be positive");
        if (MaxLockedBytes < 0 || MaxLockedBytes > MaxBytes)
            throw new ArgumentOutOfRangeException(nameof(MaxLockedBytes), MaxLockedBytes, "must be between 0 and MaxBytes");
        if (CacheBytes < 0) throw new ArgumentOutOfRangeException(nameof(CacheBytes), CacheBytes, "must not be negative");
        if (CacheFds < 0) throw new ArgumentOutOfRangeException(nameof(CacheFds), CacheFds, "must not be negative");
        if (string.IsNullOrEmpty(Name) || Name.Length > 200)
            throw new ArgumentException("must be 1 to 200 characters", nameof(Name));
    }
}
