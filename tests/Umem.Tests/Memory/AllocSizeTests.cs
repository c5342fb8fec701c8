using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Tests.Memory;

/// <summary>ddi_umem_alloc(9F): the size is rounded up to whole pages; a size of 0 fails; memory is page-aligned.</summary>
public sealed class AllocSizeTests
{
    private static readonly int Page = SystemPage.Size;

    public static TheoryData<long, long> Boundaries() => new()
    {
        { 1, Page },
        { Page - 1, Page },
        { Page, Page },
        { Page + 1, 2L * Page },
        { 2L * Page - 1, 2L * Page },
        { 17L * Page + 3, 18L * Page },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void SizeIsRoundedUpToWholePages(long size, long expected)
    {
        using var allocator = new UmemAllocator();
        foreach (var flags in new[] { UmemFlags.Sleep, UmemFlags.Pageable, UmemFlags.NoSleep, UmemFlags.NoSleep | UmemFlags.Pageable })
        {
            var cookie = allocator.Alloc(size, flags);
            Assert.Equal(expected, cookie.Size);
            Assert.Equal(expected, cookie.Span.Length);
            Assert.Equal(expected, allocator.GetStatistics().TotalBytes);
            allocator.Free(cookie);
        }
    }

    [Fact]
    public void PageSizeComesFromSysconfNotAConstant()
    {
        // The rounding unit is whatever the C library reports; compare with an independent read through libc.
        Assert.Equal(Interop.sysconf(Interop._SC_PAGESIZE), SystemPage.Size);
        Assert.Equal(Environment.SystemPageSize, SystemPage.Size);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void MemoryIsPageAligned(int pages)
    {
        using var allocator = new UmemAllocator();
        var locked = allocator.Alloc(pages * (long)Page, UmemFlags.Sleep);
        var pageable = allocator.Alloc(pages * (long)Page - 7, UmemFlags.Pageable);
        Assert.Equal(0, locked.KernelAddress % Page);
        Assert.Equal(0, pageable.KernelAddress % Page);
        allocator.Free(locked);
        allocator.Free(pageable);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(long.MinValue)]
    public void ZeroOrNegativeSizeFailsLikeTheManPageSays(long size)
    {
        // ddi_umem_alloc(9F): a size of 0 returns NULL. The Try-pattern returns no cookie for it, so a ported
        // `if (cookie == NULL)` works; the throwing entry points make it an argument error, as any negative size.
        using var allocator = new UmemAllocator();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Alloc(size, UmemFlags.Sleep));
        Assert.Equal("size", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Alloc(size, UmemFlags.NoSleep | UmemFlags.Pageable));
        if (size == 0)
        {
            Assert.False(allocator.TryAlloc(size, UmemFlags.NoSleep, out var cookie));
            Assert.Null(cookie);
        }
        else
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => allocator.TryAlloc(size, UmemFlags.NoSleep, out _));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = allocator.AllocAsync(size, UmemFlags.Sleep, cancellationToken: TestContext.Current.CancellationToken).AsTask(); });
        Assert.Equal(default(UmemStatistics), allocator.GetStatistics());
    }

    [Fact]
    public void SizeTooLargeToRoundFailsAsAnArgumentError()
    {
        using var allocator = new UmemAllocator();
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Alloc(long.MaxValue, UmemFlags.NoSleep));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.TryAlloc(long.MaxValue - 1, UmemFlags.NoSleep, out _));
    }

    [Fact]
    public void TrashAndUnknownFlagsAreRefused()
    {
        // DDI_UMEM_TRASH (0x4) is documented as unsupported in docs/design.md.
        using var allocator = new UmemAllocator();
        var e = Assert.Throws<ArgumentException>(() => allocator.Alloc(Page, (UmemFlags)0x4));
        Assert.Contains("DDI_UMEM_TRASH", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => allocator.TryAlloc(Page, (UmemFlags)0x6, out _));
        Assert.Throws<ArgumentException>(() => allocator.Alloc(Page, (UmemFlags)0x100));
        Assert.Equal(0, allocator.GetStatistics().TotalAllocations);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-3)]
    public void NegativeGrantPagesAreRefused(int grantPages)
    {
        using var allocator = new UmemAllocator();
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Alloc(Page, UmemFlags.Sleep, grantPages));
        Assert.Equal(0, allocator.GetStatistics().TotalAllocations);
    }

    [Fact]
    public void CookieReportsTypeAndGrantUnit()
    {
        using var allocator = new UmemAllocator();
        var locked = allocator.Alloc(10L * Page, UmemFlags.Sleep, grantPages: 4);
        var pageable = allocator.Alloc(3L * Page, UmemFlags.Pageable, grantPages: 8);
        Assert.Equal(UmemCookieType.KmemNonPageable, locked.Type);
        Assert.Equal(UmemCookieType.KmemPageable, pageable.Type);
        Assert.Equal(4L * Page, locked.GrantBytes);
        Assert.Equal(3L * Page, pageable.GrantBytes); // a unit never exceeds the allocation
        Assert.Equal(1, locked.Id);
        Assert.Equal(2, pageable.Id);
        allocator.Free(locked);
        allocator.Free(pageable);
    }

    [Fact]
    public void GetSpanChecksItsRange()
    {
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(2L * Page, UmemFlags.Pageable);
        cookie.GetSpan(Page, Page).Fill(7);
        Assert.Equal(7, cookie.Span[Page]);
        Assert.Equal(0, cookie.Span[Page - 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => cookie.GetSpan(Page, Page + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => cookie.GetSpan(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => cookie.GetSpan(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => cookie.GetSpan(long.MaxValue, 1));
        allocator.Free(cookie);
    }
}
