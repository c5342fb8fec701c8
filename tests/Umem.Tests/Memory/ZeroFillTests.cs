using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>ddi_umem_alloc(9F): memory is always zero-filled, including memory reused after a free.</summary>
public sealed class ZeroFillTests
{
    private static readonly int Page = SystemPage.Size;

    [Theory]
    [InlineData(1, UmemFlags.Sleep)]
    [InlineData(1, UmemFlags.Pageable)]
    [InlineData(33, UmemFlags.Sleep)]
    [InlineData(33, UmemFlags.Pageable | UmemFlags.NoSleep)]
    public void FreshMemoryIsZero(int pages, UmemFlags flags)
    {
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(pages * (long)Page, flags);
        Assert.True(IsAllZero(cookie));
        allocator.Free(cookie);
    }

    public static TheoryData<long, UmemFlags, int> ReuseShapes()
    {
        long clearLimitPages = UmemBacking.ClearLimitBytes / Page;
        return new()
        {
            { Page, UmemFlags.Sleep, 1 },                                  // locked: cleared in place
            { 16L * Page, UmemFlags.Sleep, 4 },
            { 256L * Page, UmemFlags.Sleep, 256 },
            { Page, UmemFlags.Pageable, 1 },                               // small pageable: cleared in place
            { clearLimitPages * Page, UmemFlags.Pageable, 1 },             // at the limit: still cleared
            { (clearLimitPages + 1) * Page, UmemFlags.Pageable, 1 },       // above: punched out
            { 4 * UmemBacking.ClearLimitBytes, UmemFlags.Pageable, 64 },   // punched, several pages per memfd
        };
    }

    [Theory]
    [MemberData(nameof(ReuseShapes))]
    public void ReusedMemoryIsZeroAgain(long size, UmemFlags flags, int grantPages)
    {
        using var allocator = new UmemAllocator();
        var first = allocator.Alloc(size, flags, grantPages);
        nint address = first.KernelAddress;
        Scribble(first);
        first.Span.Fill(0xEE);
        allocator.Free(first);
        Assert.Equal(1, allocator.GetStatistics().CachedCount);

        var second = allocator.Alloc(size, flags, grantPages);
        var stats = allocator.GetStatistics();
        Assert.Equal(1, stats.CacheHits);        // the same backing came back from the cache...
        Assert.Equal(address, second.KernelAddress);
        Assert.True(IsAllZero(second));          // ...and every byte is zero again
        allocator.Free(second);
    }

    [Fact]
    public void LargePageableBackingIsPunchedSoItsPagesAreFreed()
    {
        long size = 4 * UmemBacking.ClearLimitBytes;
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(size, UmemFlags.Pageable);
        nint address = cookie.KernelAddress;
        cookie.Span.Fill(1);
        Assert.Equal(size, ResidentBytesIn(address, size));
        allocator.Free(cookie);
        // Still mapped (cached), but the punch gave the pages back: nothing resident.
        Assert.Equal(1, allocator.GetStatistics().CachedCount);
        Assert.Equal(0, ResidentBytesIn(address, size));
        var again = allocator.Alloc(size, UmemFlags.Pageable);
        Assert.Equal(address, again.KernelAddress);
        Assert.True(IsAllZero(again));
        allocator.Free(again);
    }

    [Fact]
    public void ReuseWithTheCacheOffIsZeroToo()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 0 });
        for (int i = 0; i < 3; i++)
        {
            var cookie = allocator.Alloc(3L * Page, i % 2 == 0 ? UmemFlags.Sleep : UmemFlags.Pageable);
            Assert.True(IsAllZero(cookie));
            cookie.Span.Fill(0x5A);
            allocator.Free(cookie);
            Assert.Equal(0, allocator.GetStatistics().CachedBytes);
        }
        Assert.Equal(0, allocator.GetStatistics().CacheHits);
    }

    [Fact]
    public void OtherShapesDoNotTakeCachedBacking()
    {
        using var allocator = new UmemAllocator();
        var locked = allocator.Alloc(2L * Page, UmemFlags.Sleep);
        allocator.Free(locked);
        // Same size, other kind or other grant unit: new backing, the cached one stays.
        var pageable = allocator.Alloc(2L * Page, UmemFlags.Pageable);
        var wider = allocator.Alloc(2L * Page, UmemFlags.Sleep, grantPages: 2);
        var stats = allocator.GetStatistics();
        Assert.Equal(0, stats.CacheHits);
        Assert.Equal(1, stats.CachedCount);
        Assert.Equal(2L * Page, stats.CachedBytes);
        Assert.True(IsAllZero(pageable) && IsAllZero(wider));
        allocator.Free(pageable);
        allocator.Free(wider);
    }

    [Fact]
    public void GrantedBackingIsNeverReused()
    {
        // A process that once held the fd may keep it forever: such backing is unmapped, not cached.
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(Page, UmemFlags.Sleep);
        cookie.Backing.MarkGranted();
        allocator.Free(cookie);
        Assert.Equal(0, allocator.GetStatistics().CachedCount);
        var next = allocator.Alloc(Page, UmemFlags.Sleep);
        Assert.Equal(0, allocator.GetStatistics().CacheHits);
        allocator.Free(next);
    }

    [Fact]
    public void TheCacheKeepsNoMoreThanItsCapacityAndEvictsTheOldest()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 3L * Page });
        var cookies = Enumerable.Range(0, 5).Select(_ => allocator.Alloc(Page, UmemFlags.Sleep)).ToList();
        var addresses = cookies.Select(c => c.KernelAddress).ToList();
        FreeAll(allocator, cookies);
        var stats = allocator.GetStatistics();
        Assert.Equal((3L, 3L * Page, 2L, 0L), (stats.CachedCount, stats.CachedBytes, stats.CacheEvictions, stats.TotalBytes));
        // The three freed last are the ones kept; the newest comes back first.
        var again = Enumerable.Range(0, 3).Select(_ => allocator.Alloc(Page, UmemFlags.Sleep)).ToList();
        Assert.Equal(addresses[2..].AsEnumerable().Reverse(), again.Select(c => c.KernelAddress));
        FreeAll(allocator, again);
    }

    [Fact]
    public void AShapeNoLongerUsedIsEvictedForANewOne()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 4L * Page });
        var old = allocator.Alloc(4L * Page, UmemFlags.Pageable);
        allocator.Free(old);
        var small = allocator.Alloc(Page, UmemFlags.Sleep);
        nint address = small.KernelAddress;
        allocator.Free(small); // does not fit beside the old one: the old one goes
        var stats = allocator.GetStatistics();
        Assert.Equal((1L, (long)Page, 1L), (stats.CachedCount, stats.CachedBytes, stats.CacheEvictions));
        var again = allocator.Alloc(Page, UmemFlags.Sleep);
        Assert.Equal(address, again.KernelAddress);
        allocator.Free(again);
    }

    [Fact]
    public void TheCacheKeepsNoMoreThanItsFds()
    {
        // One memfd per page: eight one-page backings are eight fds, over a limit of five.
        string name = $"umem-cachefds-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { CacheFds = 5, Name = name });
        var cookies = Enumerable.Range(0, 8).Select(_ => allocator.Alloc(Page, UmemFlags.Pageable)).ToList();
        var wide = allocator.Alloc(6L * Page, UmemFlags.Pageable); // six fds: never cached
        FreeAll(allocator, cookies);
        allocator.Free(wide);
        Assert.Equal(5, allocator.GetStatistics().CachedCount);
        Assert.Equal(5, FdsNamed(name));
    }

    [Fact]
    public void DisposeEmptiesTheCache()
    {
        string name = $"umem-dispose-{Guid.NewGuid():N}";
        var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name });
        var cookie = allocator.Alloc(Page, UmemFlags.Sleep);
        nint address = cookie.KernelAddress;
        allocator.Free(cookie);
        Assert.Equal(Page, LockedBytesIn(address, Page));
        Assert.Equal(1, MappingsNamed(name));
        allocator.Dispose();
        Assert.Equal(0, allocator.GetStatistics().CachedBytes);
        Assert.Equal(0, MappingsNamed(name)); // unmapped (and so unlocked)
        Assert.Throws<ObjectDisposedException>(() => allocator.Alloc(Page, UmemFlags.Sleep));
    }
}
