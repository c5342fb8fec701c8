using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>The memory is sealed memfds, one per grant unit, mode 0600; without DDI_UMEM_PAGEABLE it is locked.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BackingTests
{
    private static readonly int Page = SystemPage.Size;

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(8, 1, 8)]
    [InlineData(10, 4, 3)]   // 4 + 4 + 2 pages
    [InlineData(3, 100, 1)]
    public void OneSealedMemfdPerGrantUnit(int pages, int grantPages, int memfds)
    {
        string name = $"umem-seal-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name });
        var cookie = allocator.Alloc(pages * (long)Page, UmemFlags.Pageable, grantPages);
        Assert.Equal(memfds, FdsNamed(name));
        Assert.Equal(memfds, MappingsNamed(name));
        var extents = cookie.Backing.Extents;
        Assert.Equal(memfds, extents.Length);
        long offset = 0;
        foreach (var e in extents)
        {
            Assert.Equal(offset, e.Offset);
            Assert.Equal(Math.Min(grantPages * (long)Page, cookie.Size - offset), e.Length);
            offset += e.Length;

            // F_GET_SEALS: shrink, grow and seal are set, so nobody can resize it or lift the seals.
            Assert.Equal(Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_SEAL, MemFd.GetSeals(e.Fd));
            Assert.Equal(Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_SEAL, MemFd.GetSeals(e.Fd) & MemFd.DefaultSeals);
            Assert.True(Interop.ftruncate(e.Fd, e.Length + Page) < 0);
            Assert.Equal(Errno.EPERM, Interop.LastErrno);
            Assert.True(Interop.ftruncate(e.Fd, 0) < 0);
            Assert.Equal(Errno.EPERM, Interop.LastErrno);
            Assert.True(Interop.fcntl(e.Fd, Interop.F_ADD_SEALS, Interop.F_SEAL_WRITE) < 0);
            Assert.Equal(Errno.EPERM, Interop.LastErrno);

            // Mode 0600: another uid cannot reopen it through /proc/PID/fd.
            var mode = File.GetUnixFileMode($"/proc/self/fd/{e.Fd.Fd}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }
        Assert.Equal(cookie.Size, offset);
        allocator.Free(cookie);
    }

    [Fact]
    public void TheDriversAddressesAreTheMemfdsPages()
    {
        // What the driver writes through the cookie is what a process mapping the memfd sees, page by page.
        using var allocator = new UmemAllocator();
        var cookie = allocator.Alloc(3L * Page, UmemFlags.Sleep);
        for (int p = 0; p < 3; p++) cookie.GetSpan(p * (long)Page, Page).Fill((byte)(p + 1));
        foreach (var e in cookie.Backing.Extents)
        {
            using var view = MappedRegion.MapShared(e.Fd, 0, e.Length, Interop.PROT_READ | Interop.PROT_WRITE);
            unsafe
            {
                var seen = new Span<byte>((void*)view.Address, (int)e.Length);
                Assert.False(seen.ContainsAnyExcept((byte)(e.Offset / Page + 1)));
                seen[0] = 0xCC; // and the other way round
            }
            Assert.Equal(0xCC, cookie.Span[(int)e.Offset]);
        }
        allocator.Free(cookie);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(16, 1)]
    [InlineData(16, 16)]
    [InlineData(300, 7)]
    public void NonPageableMemoryIsLocked(int pages, int grantPages)
    {
        using var allocator = new UmemAllocator();
        long size = pages * (long)Page;
        var cookie = allocator.Alloc(size, UmemFlags.Sleep, grantPages);
        Assert.Equal(size, LockedBytesIn(cookie.KernelAddress, size));
        Assert.Equal(size, ResidentBytesIn(cookie.KernelAddress, size));
        var stats = allocator.GetStatistics();
        Assert.Equal((1, size, 0, 0L), (stats.LockedCount, stats.LockedBytes, stats.PageableCount, stats.PageableBytes));
        allocator.Free(cookie);
    }

    [Fact]
    public void PageableMemoryIsNotLocked()
    {
        using var allocator = new UmemAllocator();
        long size = 16L * Page;
        var cookie = allocator.Alloc(size, UmemFlags.Pageable);
        cookie.Span.Fill(3);
        Assert.Equal(0, LockedBytesIn(cookie.KernelAddress, size));
        Assert.Equal(size, ResidentBytesIn(cookie.KernelAddress, size));
        var stats = allocator.GetStatistics();
        Assert.Equal((0, 0L, 1, size), (stats.LockedCount, stats.LockedBytes, stats.PageableCount, stats.PageableBytes));
        allocator.Free(cookie);
    }

    [Fact]
    public void CachedLockedBackingStaysLockedAndComesBackLocked()
    {
        using var allocator = new UmemAllocator();
        long size = 4L * Page;
        var cookie = allocator.Alloc(size, UmemFlags.Sleep);
        nint address = cookie.KernelAddress;
        allocator.Free(cookie);
        var again = allocator.Alloc(size, UmemFlags.Sleep);
        Assert.Equal(address, again.KernelAddress);
        Assert.Equal(size, LockedBytesIn(address, size));
        allocator.Free(again);
    }

    [Fact]
    public void FreeingUnmapsAndClosesEverything()
    {
        string name = $"umem-close-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, CacheBytes = 0 });
        var cookies = new[] { allocator.Alloc(5L * Page, UmemFlags.Sleep), allocator.Alloc(2L * Page, UmemFlags.Pageable, 2) };
        Assert.Equal(6, FdsNamed(name));
        FreeAll(allocator, cookies);
        Assert.Equal(0, FdsNamed(name));
        Assert.Equal(0, MappingsNamed(name));
    }
}
