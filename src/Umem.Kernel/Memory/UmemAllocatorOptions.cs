namespace Umem.Kernel.Memory;

/// <summary>The host's budget for driver memory (bytes, memfds, mappings), and the cache of released backing.</summary>
public sealed record UmemAllocatorOptions
{
    /// <summary>Bytes of driver memory that may be allocated at once, pageable and locked together.</summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of locked (non-pageable) driver memory that may be allocated at once.</summary>
    public long MaxLockedBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Memfds live cookies may hold at once (each is an open fd of the host). Checked before the OS is asked, like
    /// the byte budget: DDI_UMEM_NOSLEEP fails with ENOMEM when they are in use, DDI_UMEM_SLEEP waits for them,
    /// and a request that needs more than this fails at once. Default: half the hard RLIMIT_NOFILE (10,000 of
    /// 20,000 here); the cache's <see cref="CacheFds"/> come on top.
    /// </summary>
    public int MaxFds { get; init; } = ProcessLimits.DefaultMaxFds;

    /// <summary>
    /// Mappings (VMAs) live cookies may hold in the host at once: one per memfd. Checked as <see cref="MaxFds"/>
    /// is. Default: half of vm.max_map_count (32,765 of 65,530).
    /// </summary>
    public int MaxMappings { get; init; } = ProcessLimits.DefaultMaxMappings;

    /// <summary>
    /// Bytes of released backing kept mapped and zeroed for reuse. Backing that any process other than the host
    /// ever received is never cached. 0 turns the cache off.
    /// </summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Memfds the cache may keep open (every one is an fd of the host and a mapping; a cookie has at most 64
    /// unless its driver asked for finer grant units). 0 turns the cache off.
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
        if (MaxFds <= 0) throw new ArgumentOutOfRangeException(nameof(MaxFds), MaxFds, "must be positive");
        if (MaxMappings <= 0) throw new ArgumentOutOfRangeException(nameof(MaxMappings), MaxMappings, "must be positive");
        if (CacheFds < 0) throw new ArgumentOutOfRangeException(nameof(CacheFds), CacheFds, "must not be negative");
        if (string.IsNullOrEmpty(Name) || Name.Length > 200)
            throw new ArgumentException("must be 1 to 200 characters", nameof(Name));
    }
}
