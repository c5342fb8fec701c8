using System.Globalization;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>Runs alone: the tests measure this process's locked memory against RLIMIT_MEMLOCK.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class LockedMemoryLimitCollection;

/// <summary>
/// The OS, not the budget, refuses: a thread without CAP_IPC_LOCK cannot lock more than RLIMIT_MEMLOCK. NOSLEEP
/// fails with the OS's errno; SLEEP waits for a release (or a back-off) and tries again; cached locked backing is
/// given back to make room.
/// </summary>
[Collection(nameof(LockedMemoryLimitCollection))]
public sealed class OsRefusalTests
{
    private static readonly int Page = SystemPage.Size;

    /// <summary>Bytes this process may still lock without CAP_IPC_LOCK: RLIMIT_MEMLOCK minus VmLck.</summary>
    private static long LockableBytes()
    {
        string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
        string soft = line["Max locked memory".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.SkipWhen(soft == "unlimited", "RLIMIT_MEMLOCK is unlimited: the OS never refuses to lock");
        string vmlck = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmLck:", StringComparison.Ordinal));
        long locked = long.Parse(vmlck["VmLck:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return long.Parse(soft, CultureInfo.InvariantCulture) - locked;
    }

    /// <summary>Two sizes that each fit under the limit, but not together.</summary>
    private static long SixTenths()
    {
        long pages = SystemPage.BytesToPages(LockableBytes() * 6 / 10);
        Assert.True(pages >= 2, "too little lockable memory left for the test");
        return pages * Page;
    }

    [Fact]
    public async Task NoSleepFailsWithTheOsErrorAndGivesTheChargeBack()
    {
        long size = SixTenths();
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 0 });
        var (first, tried, thrown, pageable, stats) = await ThreadWithoutIpcLock.Run(() =>
        {
            var first = allocator.Alloc(size, UmemFlags.NoSleep);
            bool tried = allocator.TryAlloc(size, UmemFlags.NoSleep, out _);
            var thrown = Record.Exception(() => allocator.Alloc(size, UmemFlags.NoSleep));
            var stats = allocator.GetStatistics();
            var pageable = allocator.Alloc(size, UmemFlags.Pageable | UmemFlags.NoSleep); // only locking is refused
            return (first, tried, thrown, pageable, stats);
        }).WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal(size, LockedBytesIn(first.KernelAddress, size));
        Assert.False(tried);
        var e = Assert.IsType<ErrnoException>(thrown);
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.StartsWith("mlock(", e.Call, StringComparison.Ordinal);
        Assert.Equal((1L, size, 0), (stats.LockedCount, stats.LockedBytes, stats.Waiters)); // the failures left no charge
        Assert.Equal(2, stats.OsRefusals);
        Assert.Equal(2, allocator.GetStatistics().TotalAllocations);
        allocator.Free(first);
        allocator.Free(pageable);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public async Task SleepWaitsForAReleaseAndCachedLockedMemoryIsGivenBack()
    {
        long size = SixTenths();
        using var allocator = new UmemAllocator(); // with a cache: the freed backing stays locked until trimmed
        var first = await ThreadWithoutIpcLock.Run(() => allocator.Alloc(size, UmemFlags.Sleep)).WaitAsync(Guard, TestContext.Current.CancellationToken);
        // Another shape, so the cached backing of the first cannot simply be reused.
        var second = ThreadWithoutIpcLock.Run(() => allocator.Alloc(size + Page, UmemFlags.Sleep));
        WaitForWaiters(allocator, 1);
        Assert.False(second.IsCompleted);

        allocator.Free(first);
        var cookie = await second.WaitAsync(Guard, TestContext.Current.CancellationToken);
        Assert.Equal(size + Page, LockedBytesIn(cookie.KernelAddress, size + Page));
        Assert.True(IsAllZero(cookie));
        var stats = allocator.GetStatistics();
        Assert.Equal((0L, 1L, size + Page, 0), (stats.CachedCount, stats.LockedCount, stats.LockedBytes, stats.Waiters));
        allocator.Free(cookie);
    }

    [Fact]
    public async Task SleepTriesAgainWhenMemoryComesBackFromElsewhere()
    {
        long size = SixTenths();
        // Memory locked by someone else (here another allocator): its release is no event for ours.
        using var elsewhere = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 0 });
        using var allocator = new UmemAllocator();
        var held = await ThreadWithoutIpcLock.Run(() => elsewhere.Alloc(size, UmemFlags.Sleep)).WaitAsync(Guard, TestContext.Current.CancellationToken);
        var waiting = ThreadWithoutIpcLock.Run(() => allocator.Alloc(size, UmemFlags.Sleep));
        WaitForWaiters(allocator, 1);

        elsewhere.Free(held); // unmapped, so unlocked: the back-off retry finds room
        var cookie = await waiting.WaitAsync(Guard, TestContext.Current.CancellationToken);
        Assert.Equal(size, LockedBytesIn(cookie.KernelAddress, size));
        allocator.Free(cookie);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public async Task ARefusedSleeperKeepsOthersInLineBehindIt()
    {
        long size = SixTenths();
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 0 });
        var first = await ThreadWithoutIpcLock.Run(() => allocator.Alloc(size, UmemFlags.Sleep)).WaitAsync(Guard, TestContext.Current.CancellationToken);
        var refused = ThreadWithoutIpcLock.Run(() => allocator.Alloc(size, UmemFlags.Sleep));
        WaitForWaiters(allocator, 1);
        // A small pageable request would get memory from the OS at once, but it arrived later: it waits its turn,
        // however often the refused one tries again and fails.
        var later = allocator.AllocAsync(Page, UmemFlags.Pageable, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        long refusals = allocator.GetStatistics().OsRefusals;
        Eventually.WaitUntil(() => allocator.GetStatistics().OsRefusals >= refusals + 2, "two more refused retries");
        var stats = allocator.GetStatistics();
        Assert.False(later.IsCompleted);
        Assert.Equal(size, stats.TotalBytes); // the later one was never charged
        Assert.InRange(stats.Waiters, 1, 2);  // (the refused one may be out of line for a retry right now)

        allocator.Free(first);
        var big = await refused.WaitAsync(Guard, TestContext.Current.CancellationToken);
        var small = await later.WaitAsync(Guard, TestContext.Current.CancellationToken);
        allocator.Free(big);
        allocator.Free(small);
    }
}
