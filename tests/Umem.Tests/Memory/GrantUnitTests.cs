using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.Tests.Ddi;
using static Umem.Kernel.Ddi.Sunddi;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>
/// Grant units chosen per cookie: page units up to 64 pages, then power-of-two units, at most 64 memfds a cookie,
/// so fds and mappings do not grow with the size of what is exported whole. A driver asks for finer units.
/// </summary>
public sealed class GrantUnitTests
{
    private static readonly long Page = SystemPage.Size;

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 2)]          // the seed's driver: one page per data model
    [InlineData(64, 1, 64)]
    [InlineData(65, 2, 33)]        // 32 units of 2 pages and 1 of 1
    [InlineData(256, 4, 64)]       // 1 MiB in units of 16 KiB
    [InlineData(16384, 256, 64)]   // 64 MiB in units of 1 MiB
    [InlineData(262144, 4096, 64)] // 1 GiB in units of 16 MiB
    public void TheDefaultUnitKeepsACookieWithin64Memfds(int pages, int unitPages, int memfds)
    {
        string name = $"umem-auto-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, CacheBytes = 0 });
        var cookie = allocator.Alloc(pages * Page, UmemFlags.Pageable);
        Assert.Equal(unitPages * Page, cookie.GrantBytes);
        Assert.Equal(memfds, cookie.Backing.Extents.Length);
        Assert.Equal(memfds, FdsNamed(name));
        Assert.Equal(memfds, MappingsNamed(name));
        Assert.Equal(memfds, allocator.GetStatistics().Memfds);
        allocator.Free(cookie);
        Assert.Equal((0, 0, 0L), (FdsNamed(name), MappingsNamed(name), allocator.GetStatistics().Memfds));
    }

    [Fact]
    public void AnExplicitUnitKeepsItsMeaning()
    {
        string name = $"umem-explicit-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, CacheBytes = 0 });
        var pages = allocator.Alloc(1L << 20, UmemFlags.Pageable, grantPages: 1);
        var whole = allocator.Alloc(1L << 20, UmemFlags.Sleep, grantPages: 256);
        Assert.Equal((Page, 256), (pages.GrantBytes, pages.Backing.Extents.Length));
        Assert.Equal((1L << 20, 1), (whole.GrantBytes, whole.Backing.Extents.Length));
        Assert.Equal(257, FdsNamed(name));
        Assert.Equal(257, allocator.GetStatistics().Memfds);
        allocator.Free(pages);
        allocator.Free(whole);
    }

    [Fact]
    public void AFourGiBPageableCookieIsSparseAndHasAtMost64Memfds()
    {
        const long Size = 4L << 30;
        string name = $"umem-4g-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, MaxBytes = Size });
        var cookie = allocator.Alloc(Size, UmemFlags.Pageable);
        Assert.Equal(Size, cookie.Size);
        Assert.Equal(64L << 20, cookie.GrantBytes);
        Assert.InRange(FdsNamed(name), 1, UmemBacking.MaxAutoUnits);
        Assert.InRange(MappingsNamed(name), 1, UmemBacking.MaxAutoUnits);

        // The driver touches both ends; only those pages become resident.
        cookie.GetSpan(0, 1)[0] = 0x11;
        cookie.GetSpan(Size - 1, 1)[0] = 0x22;
        Assert.Equal(0x11, cookie.GetSpan(0, 1)[0]);
        Assert.Equal(0x22, cookie.GetSpan(Size - 1, 1)[0]);
        Assert.Equal(0, cookie.GetSpan(Size / 2, 1)[0]);
        Assert.InRange(ResidentBytesIn(cookie.KernelAddress, Size), 2 * Page, 64 * Page);

        allocator.Free(cookie); // larger than the cache: unmapped and closed
        var stats = allocator.GetStatistics();
        Assert.Equal((0L, 0L, 0L), (stats.TotalBytes, stats.Memfds, stats.CachedCount));
        Assert.Equal((0, 0), (FdsNamed(name), MappingsNamed(name)));
    }

    [Fact]
    public void AOneGiBLockedCookieIsRefusedAtOnceByTheBudget()
    {
        // The default budget locks at most 256 MiB; a set MaxLockedBytes the same way. Even SLEEP fails at once:
        // no release could ever make room.
        using var byDefault = new UmemAllocator();
        using var set = new UmemAllocator(new UmemAllocatorOptions { MaxBytes = 2L << 30, MaxLockedBytes = 512L << 20 });
        foreach (var allocator in new[] { byDefault, set })
        {
            foreach (var flags in new[] { UmemFlags.Sleep, UmemFlags.NoSleep })
            {
                var e = Await(Task.Run(() => Assert.Throws<ErrnoException>(() => allocator.Alloc(1L << 30, flags))));
                Assert.Equal(Errno.ENOMEM, e.Errno);
                Assert.Contains("locked bytes", e.Message, StringComparison.Ordinal);
            }
            Assert.False(allocator.TryAlloc(1L << 30, UmemFlags.NoSleep, out _));
            var stats = allocator.GetStatistics();
            Assert.Equal((0L, 0L, 0L, 0, 0L), (stats.TotalBytes, stats.Memfds, stats.PeakBytes, stats.Waiters, stats.OsRefusals));
            var fits = allocator.Alloc(Page, UmemFlags.Sleep); // still usable
            allocator.Free(fits);
        }
    }

    [Fact]
    public void PagesOfAOneMiBCookieAllocatedByPageAreExportedAlone()
    {
        const int Pages = 256;
        using var t = new TestKernel();
        var driver = t.Load("g", new ScriptedDriver("g0") { Pages = Pages, GrantPages = 1 });
        long koff = 0;
        string? reason = null;
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            var r = DevmapUmemSetup(dhp, d.Dip, null, d.Cookie, koff, Page, Prot.All, 0, null);
            reason = dhp.FailureReason;
            maplen = Page;
            return r == DdiResult.Success ? Errno.None : Errno.ENXIO;
        };
        var file = t.Kernel.Open("g0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        foreach (long page in new long[] { 0, 5, Pages - 1 })
        {
            koff = page * Page;
            driver.Cookie!.GetSpan(koff, (int)Page).Fill((byte)(page + 1));
            var mapping = file.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
            using (var export = mapping.Export())
            {
                var segment = Assert.Single(export.Segments);
                Assert.Equal((Page, 0L), (segment.Length, segment.FdOffset));
                Assert.Equal(Page, Interop.lseek(segment.Fd, 0, Interop.SEEK_END)); // the fd reaches this page only
                using var client = ClientMap.Map(segment, write: true);
                Assert.Equal((byte)(page + 1), ClientMap.Span(client)[0]);
            }
            mapping.Unmap(0, Page);
        }

        // The same export of a 1 MiB cookie with the default units (4 pages) is refused, never widened.
        var auto = driver.Ctx.Allocator.Alloc(Pages * Page, UmemFlags.Pageable, UmemAllocator.AutoGrantPages);
        driver.Cookie = auto;
        koff = 5 * Page;
        Assert.Throws<ErrnoException>(() => file.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared));
        Assert.Contains($"grant units of {4 * Page} bytes", reason, StringComparison.Ordinal);
        driver.Ctx.Allocator.Free(auto);
    }
}
