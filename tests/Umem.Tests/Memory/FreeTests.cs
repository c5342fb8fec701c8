using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>ddi_umem_free(9F): bad cookies get a clear error and disturb nothing; exported memory is released last.</summary>
public sealed class FreeTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public void DoubleFreeThrowsAndDisturbsNothing()
    {
        using var allocator = new UmemAllocator();
        var a = allocator.Alloc(Page, UmemFlags.Sleep);
        var b = allocator.Alloc(2L * Page, UmemFlags.Sleep);
        b.Span.Fill(4);
        allocator.Free(a);
        var before = allocator.GetStatistics();
        var e = Assert.Throws<InvalidOperationException>(() => allocator.Free(a));
        Assert.Contains("double free", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, allocator.GetStatistics());
        Assert.False(b.Span.ContainsAnyExcept((byte)4));
        // The freed backing went to the cache once, not twice: two allocations get two different ranges.
        var c = allocator.Alloc(Page, UmemFlags.Sleep);
        var d = allocator.Alloc(Page, UmemFlags.Sleep);
        Assert.NotEqual(c.KernelAddress, d.KernelAddress);
        FreeAll(allocator, [b, c, d]);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void ACookieOfAnotherAllocatorIsRefused()
    {
        using var mine = new UmemAllocator();
        using var theirs = new UmemAllocator();
        var cookie = theirs.Alloc(Page, UmemFlags.Pageable);
        var e = Assert.Throws<ArgumentException>(() => mine.Free(cookie));
        Assert.Equal("cookie", e.ParamName);
        Assert.Contains("another allocator", e.Message, StringComparison.Ordinal);
        Assert.False(cookie.IsFreed);
        cookie.Span[0] = 1; // still live
        Assert.Equal(Page, theirs.GetStatistics().TotalBytes);
        Assert.Equal(default(UmemStatistics), mine.GetStatistics());
        theirs.Free(cookie);
    }

    [Fact]
    public void ANullCookieIsRefused()
    {
        using var allocator = new UmemAllocator();
        var e = Assert.Throws<ArgumentNullException>(() => allocator.Free(null!));
        Assert.Equal("cookie", e.ParamName);
        UmemCookie? none = default;
        Assert.Throws<ArgumentNullException>(() => allocator.Free(none!));
    }

    [Fact]
    public void UseAfterFreeThrowsObjectDisposed()
    {
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(Page, UmemFlags.Sleep);
        long size = cookie.Size;
        allocator.Free(cookie);
        Assert.True(cookie.IsFreed);
        Assert.Throws<ObjectDisposedException>(() => cookie.KernelAddress);
        Assert.Throws<ObjectDisposedException>(() => { _ = cookie.Span; });
        Assert.Throws<ObjectDisposedException>(() => { _ = cookie.GetSpan(0, 1); });
        Assert.Equal(size, cookie.Size); // descriptive fields stay readable
        Assert.Contains("umem cookie", cookie.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnExportedCookieIsReleasedOnlyAtTheLastRelease()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { MaxBytes = 2L * Page, MaxLockedBytes = 2L * Page });
        var cookie = allocator.Alloc(2L * Page, UmemFlags.Sleep);
        nint address = cookie.KernelAddress;
        cookie.Span.Fill(0x42);
        Assert.True(cookie.TryAddReference()); // two mappings export it
        Assert.True(cookie.TryAddReference());
        Assert.Equal(3, cookie.References);

        allocator.Free(cookie);
        Assert.True(cookie.IsFreed);
        Assert.False(cookie.TryAddReference()); // no new export after the free
        var s = allocator.GetStatistics();
        Assert.Equal((1L, 2L * Page, 1L, 0L), (s.DeferredCount, s.TotalBytes, s.LockedCount, s.CachedCount));
        // The memory is still there for the mappings, untouched, and still charged.
        Assert.Equal(2L * Page, LockedBytesIn(address, 2L * Page));
        unsafe { Assert.Equal(0x42, *(byte*)address); }
        Assert.False(allocator.TryAlloc(1, UmemFlags.Sleep, out _));

        cookie.Release();
        Assert.Equal(1, allocator.GetStatistics().DeferredCount);
        unsafe { Assert.Equal(0x42, *(byte*)(address + Page)); }

        cookie.Release(); // the last one
        s = allocator.GetStatistics();
        Assert.Equal((0L, 0L, 0L, 1L), (s.DeferredCount, s.TotalBytes, s.LockedCount, s.CachedCount));
        Assert.Throws<InvalidOperationException>(() => cookie.Release());
        Assert.Throws<InvalidOperationException>(() => allocator.Free(cookie));
        var reused = allocator.Alloc(2L * Page, UmemFlags.Sleep);
        Assert.True(IsAllZero(reused));
        allocator.Free(reused);
    }

    [Fact]
    public void ReleasingTheDriversReferenceIsRefused()
    {
        // Only exports release through Release; the driver's reference goes with Free.
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(Page, UmemFlags.Pageable);
        Assert.Throws<InvalidOperationException>(() => cookie.Release());
        Assert.Equal(1, cookie.References);
        Assert.True(cookie.TryAddReference());
        cookie.Release();
        Assert.Throws<InvalidOperationException>(() => cookie.Release());
        Assert.Equal(Page, allocator.GetStatistics().TotalBytes);
        allocator.Free(cookie);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void ADeferredReleaseWakesWaiters()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { MaxBytes = Page, MaxLockedBytes = Page });
        var cookie = allocator.Alloc(Page, UmemFlags.Sleep);
        Assert.True(cookie.TryAddReference());
        var waiting = allocator.AllocAsync(Page, UmemFlags.Sleep, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        allocator.Free(cookie);
        Assert.Equal(1, allocator.GetStatistics().Waiters); // the memory is still exported
        cookie.Release();
        var next = Await(waiting);
        Assert.True(IsAllZero(next));
        allocator.Free(next);
    }

    [Fact]
    public void ConcurrentLastReleasesReleaseExactlyOnce()
    {
        using var allocator = new UmemAllocator();
        for (int round = 0; round < 200; round++)
        {
            var cookie = allocator.Alloc(Page, UmemFlags.Pageable);
            const int Exports = 4;
            for (int i = 0; i < Exports; i++) Assert.True(cookie.TryAddReference());
            using var start = new Barrier(Exports + 1);
            var releasers = Enumerable.Range(0, Exports).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                cookie.Release();
            })).ToArray();
            foreach (var t in releasers) t.Start();
            start.SignalAndWait(TestContext.Current.CancellationToken);
            allocator.Free(cookie);
            foreach (var t in releasers) Assert.True(t.Join(Guard));
            var s = allocator.GetStatistics();
            Assert.Equal((0L, 0L), (s.DeferredCount, s.TotalBytes));
        }
        Assert.Equal(1, allocator.GetStatistics().CachedCount); // released once each time, cached once
    }
}
