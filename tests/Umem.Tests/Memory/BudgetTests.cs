using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Tests.Memory;

/// <summary>The host's budget: MaxBytes in all, MaxLockedBytes locked; DDI_UMEM_NOSLEEP fails at once when it is spent.</summary>
public sealed class BudgetTests
{
    private static readonly int Page = SystemPage.Size;

    private static UmemAllocator Make(int maxPages, int maxLockedPages) =>
        new(new UmemAllocatorOptions { MaxBytes = maxPages * (long)Page, MaxLockedBytes = maxLockedPages * (long)Page });

    [Fact]
    public void NoSleepFailsAtOnceWhenTheBudgetIsSpent()
    {
        using var allocator = Make(4, 4);
        var a = allocator.Alloc(3L * Page, UmemFlags.NoSleep | UmemFlags.Pageable);
        var e = Assert.Throws<ErrnoException>(() => allocator.Alloc(2L * Page, UmemFlags.NoSleep | UmemFlags.Pageable));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("DDI_UMEM_NOSLEEP", e.Message, StringComparison.Ordinal);
        Assert.False(allocator.TryAlloc(2L * Page, UmemFlags.Pageable, out var none));
        Assert.Null(none);
        Assert.False(allocator.TryAlloc(2L * Page, UmemFlags.NoSleep, out _));

        // What is left still fits.
        Assert.True(allocator.TryAlloc(1, UmemFlags.Pageable, out var b));
        Assert.False(allocator.TryAlloc(1, UmemFlags.Pageable, out _));
        var stats = allocator.GetStatistics();
        Assert.Equal((2, 4L * Page, 0, 2L), (stats.PageableCount, stats.PageableBytes, stats.Waiters, stats.TotalAllocations));

        // A free makes room again, and the failures left nothing behind.
        allocator.Free(a);
        Assert.True(allocator.TryAlloc(3L * Page, UmemFlags.NoSleep, out var c));
        allocator.Free(b);
        allocator.Free(c);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void LockedMemoryHasItsOwnLimitWithinTheTotal()
    {
        using var allocator = Make(8, 2);
        var locked = allocator.Alloc(2L * Page, UmemFlags.NoSleep);
        Assert.False(allocator.TryAlloc(1, UmemFlags.Sleep, out _)); // the locked budget is spent...
        Assert.True(allocator.TryAlloc(6L * Page, UmemFlags.Pageable, out var pageable)); // ...not the total
        Assert.False(allocator.TryAlloc(1, UmemFlags.Pageable, out _)); // now the total is spent too
        allocator.Free(locked);
        Assert.True(allocator.TryAlloc(2L * Page, UmemFlags.Sleep, out var locked2)); // the locked budget is back
        allocator.Free(locked2);
        var stats = allocator.GetStatistics();
        Assert.Equal(2L * Page, stats.PeakLockedBytes);
        Assert.Equal(8L * Page, stats.PeakBytes);
        Assert.Equal(6L * Page, stats.PeakPageableBytes);
        allocator.Free(pageable);
    }

    [Fact]
    public void LockedMemoryCountsAgainstTheTotal()
    {
        using var allocator = Make(4, 4);
        var locked = allocator.Alloc(3L * Page, UmemFlags.Sleep);
        Assert.False(allocator.TryAlloc(2L * Page, UmemFlags.Pageable, out _));
        allocator.Free(locked);
        Assert.True(allocator.TryAlloc(4L * Page, UmemFlags.Pageable, out var all));
        allocator.Free(all);
    }

    [Theory]
    [InlineData(UmemFlags.Sleep, 5)]
    [InlineData(UmemFlags.Pageable, 9)]
    [InlineData(UmemFlags.NoSleep, 5)]
    public async Task MoreThanTheWholeBudgetFailsAtOnceEvenWithSleep(UmemFlags flags, int pages)
    {
        // It could never be served, so waiting would be forever: ENOMEM now.
        using var allocator = Make(8, 4);
        var e = Assert.Throws<ErrnoException>(() => allocator.Alloc(pages * (long)Page, flags));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("budget", e.Message, StringComparison.Ordinal);
        Assert.False(allocator.TryAlloc(pages * (long)Page, flags, out _));
        var async = await Assert.ThrowsAsync<ErrnoException>(() => allocator.AllocAsync(pages * (long)Page, flags, cancellationToken: TestContext.Current.CancellationToken).AsTask());
        Assert.Equal(Errno.ENOMEM, async.Errno);
        Assert.Equal(default(UmemStatistics), allocator.GetStatistics());
    }

    [Fact]
    public void ExactlyTheWholeBudgetFits()
    {
        using var allocator = Make(8, 4);
        var locked = allocator.Alloc(4L * Page, UmemFlags.NoSleep);
        var pageable = allocator.Alloc(4L * Page, UmemFlags.NoSleep | UmemFlags.Pageable);
        Assert.Equal(8L * Page, allocator.GetStatistics().TotalBytes);
        allocator.Free(locked);
        allocator.Free(pageable);
    }

    [Fact]
    public void InvalidOptionsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemAllocator(new UmemAllocatorOptions { MaxBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemAllocator(new UmemAllocatorOptions { MaxBytes = Page, MaxLockedBytes = 2L * Page }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemAllocator(new UmemAllocatorOptions { MaxLockedBytes = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemAllocator(new UmemAllocatorOptions { CacheBytes = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmemAllocator(new UmemAllocatorOptions { CacheFds = -1 }));
        Assert.Throws<ArgumentException>(() => new UmemAllocator(new UmemAllocatorOptions { Name = "" }));
    }

    [Fact]
    public void StatisticsCountByKindAndKeepHighWaterMarks()
    {
        using var allocator = Make(64, 32);
        var l1 = allocator.Alloc(3L * Page, UmemFlags.Sleep);
        var l2 = allocator.Alloc(1, UmemFlags.NoSleep);
        var p1 = allocator.Alloc(5L * Page, UmemFlags.Pageable);
        var s = allocator.GetStatistics();
        Assert.Equal(2, s.LockedCount);
        Assert.Equal(4L * Page, s.LockedBytes);
        Assert.Equal(1, s.PageableCount);
        Assert.Equal(5L * Page, s.PageableBytes);
        Assert.Equal(9L * Page, s.TotalBytes);
        Assert.Equal(9L * Page, s.PeakBytes);
        Assert.Equal(3, s.TotalAllocations);
        allocator.Free(l1);
        allocator.Free(p1);
        var p2 = allocator.Alloc(2L * Page, UmemFlags.Pageable);
        s = allocator.GetStatistics();
        Assert.Equal((1, 1L * Page, 1, 2L * Page), (s.LockedCount, s.LockedBytes, s.PageableCount, s.PageableBytes));
        Assert.Equal((9L * Page, 4L * Page, 5L * Page), (s.PeakBytes, s.PeakLockedBytes, s.PeakPageableBytes));
        Assert.Equal(2, s.CachedCount);
        Assert.Equal(8L * Page, s.CachedBytes);
        allocator.Free(l2);
        allocator.Free(p2);
        s = allocator.GetStatistics();
        Assert.Equal((0, 0L, 0, 0L, 0L), (s.LockedCount, s.LockedBytes, s.PageableCount, s.PageableBytes, s.DeferredCount));
        Assert.Equal(4, s.TotalAllocations);
    }
}
