using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>
/// devmap_map/devmap_unmap with partial unmaps: the whole, head, tail and hole cases of segdev_unmap, with the exact
/// arguments, and private data flowing as in illumos.
/// </summary>
public sealed class UnmapCallbackTests
{
    private static readonly long Page = SystemPage.Size;

    /// <summary>A mapping of device offset 2 pages, 4 pages long, as one handle.</summary>
    private static (TestKernel T, ScriptedDriver Driver, DeviceFile File, DeviceMapping Mapping, DevmapHandle Dhp) MapFourPages()
    {
        var t = new TestKernel();
        var driver = t.Load("cb", new ScriptedDriver("cb0") { Pages = 8 });
        var file = t.Kernel.Open("cb0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        var mapping = file.Map(2 * Page, 4 * Page, Prot.Read | Prot.Write, MapFlags.Shared);
        return (t, driver, file, mapping, Assert.Single(mapping.Handles));
    }

    [Fact]
    public void MapCallbackSeesEachHandleWithItsDeviceOffset()
    {
        var (t, driver, _, mapping, dhp) = MapFourPages();
        using (t)
        {
            var map = Assert.Single(driver.Maps);
            Assert.Same(dhp, map.Dhp);
            Assert.Equal(MapFlags.Shared, map.Flags);
            Assert.Equal(2 * Page, map.Off);
            Assert.Equal(4 * Page, map.Len);
            Assert.Equal(t.Kernel.FindNode("cb0")!.Dev, map.Dev);
            Assert.Equal($"pvt@{2 * Page:x}", dhp.PrivateData);
            Assert.Equal(MappingState.Mapped, mapping.State);
        }
    }

    [Fact]
    public void HeadUnmap()
    {
        var (t, driver, _, mapping, dhp) = MapFourPages();
        using (t)
        {
            object? pvt = dhp.PrivateData;
            mapping.Unmap(0, Page);
            var u = Assert.Single(driver.Unmaps);
            // (dhp, pvtp, dh_uoff, len, NULL, NULL, dhp, &dhp->dh_pvtp)
            Assert.Same(dhp, u.Dhp);
            Assert.Equal(pvt, u.Pvtp);
            Assert.Equal(2 * Page, u.Off);
            Assert.Equal(Page, u.Len);
            Assert.Null(u.NewDhp1);
            Assert.Same(dhp, u.NewDhp2);
            Assert.Equal(pvt, u.NewPvtp2In);
            // The handle now starts one page later.
            Assert.Equal(3 * Page, dhp.Offset);
            Assert.Equal(3 * Page, dhp.Length);
            Assert.Equal(Page, dhp.MappingOffset);
            Assert.Equal(3 * Page, dhp.KernelOffset);
            Assert.Equal(MappingState.PartiallyUnmapped, mapping.State);
            Assert.Equal((Page, 3 * Page), (mapping.GetSegments()[0].Offset, mapping.GetSegments().Sum(s => s.Length)));
        }
    }

    [Fact]
    public void TailUnmap()
    {
        var (t, driver, _, mapping, dhp) = MapFourPages();
        using (t)
        {
            object? pvt = dhp.PrivateData;
            mapping.Unmap(3 * Page, Page);
            var u = Assert.Single(driver.Unmaps);
            // (dhp, pvtp, off, len, dhp, &dhp->dh_pvtp, NULL, NULL); off is the device offset of the cut
            Assert.Same(dhp, u.Dhp);
            Assert.Equal(pvt, u.Pvtp);
            Assert.Equal(5 * Page, u.Off);
            Assert.Equal(Page, u.Len);
            Assert.Same(dhp, u.NewDhp1);
            Assert.Equal(pvt, u.NewPvtp1In);
            Assert.Null(u.NewDhp2);
            Assert.Equal(2 * Page, dhp.Offset);
            Assert.Equal(3 * Page, dhp.Length);
        }
    }

    [Fact]
    public void HoleUnmapSplitsTheHandleAndPrivateDataFollows()
    {
        var (t, driver, _, mapping, dhp) = MapFourPages();
        using (t)
        {
            object? pvt = dhp.PrivateData;
            driver.UnmapAssigns = _ => ("left", "right");
            mapping.Unmap(Page, 2 * Page);

            var u = Assert.Single(driver.Unmaps);
            // (dhp, pvtp, off, len, dhp, &dhp->dh_pvtp, newdhp, &newdhp->dh_pvtp)
            Assert.Same(dhp, u.Dhp);
            Assert.Equal(pvt, u.Pvtp);
            Assert.Equal(3 * Page, u.Off);
            Assert.Equal(2 * Page, u.Len);
            Assert.Same(dhp, u.NewDhp1);
            Assert.Equal(pvt, u.NewPvtp1In);
            Assert.NotNull(u.NewDhp2);
            Assert.NotSame(dhp, u.NewDhp2);
            Assert.Equal(pvt, u.NewPvtp2In); // the new handle starts as a copy of the old

            var handles = mapping.Handles;
            Assert.Equal(2, handles.Count);
            Assert.Same(dhp, handles[0]);
            Assert.Same(u.NewDhp2, handles[1]);
            Assert.Equal((2 * Page, Page, 0L, 2 * Page), (dhp.Offset, dhp.Length, dhp.MappingOffset, dhp.KernelOffset));
            var right = handles[1];
            Assert.Equal((5 * Page, Page, 3 * Page, 5 * Page), (right.Offset, right.Length, right.MappingOffset, right.KernelOffset));
            Assert.Equal("left", dhp.PrivateData);
            Assert.Equal("right", right.PrivateData);
            Assert.Equal([(0L, Page), (3 * Page, Page)], mapping.GetSegments().Select(s => (s.Offset, s.Length)));

            // The rest goes whole, each piece with the private data the driver gave it.
            driver.UnmapAssigns = null;
            mapping.Dispose();
            Assert.Equal(3, driver.Unmaps.Count);
            var w1 = driver.Unmaps[1];
            var w2 = driver.Unmaps[2];
            Assert.Equal((dhp, (object?)"left", 2 * Page, Page), (w1.Dhp, w1.Pvtp, w1.Off, w1.Len));
            Assert.Equal((right, (object?)"right", 5 * Page, Page), (w2.Dhp, w2.Pvtp, w2.Off, w2.Len));
            Assert.True(w1.NewDhp1 is null && w1.NewDhp2 is null && w2.NewDhp1 is null && w2.NewDhp2 is null);
            Assert.Equal(MappingState.Unmapped, mapping.State);
            Assert.Equal(1, driver.Cookie!.References); // both pieces shared, and gave back, one reference
        }
    }

    [Fact]
    public void AnUnmapAcrossHandlesCutsTheTailOfOneAndTheHeadOfAnother()
    {
        using var t = new TestKernel();
        var driver = t.Load("cb", new ScriptedDriver("cb0") { Pages = 8 });
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            maplen = 2 * Page; // two pages per handle
            return DevmapUmemSetup(dhp, d.Dip, d.Callbacks, d.Cookie, off, maplen, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
                ? Errno.None : Errno.ENXIO;
        };
        using var file = t.Kernel.Open("cb0", OpenFlags.Read, Creds.Root64);
        using var mapping = file.Map(0, 6 * Page, Prot.Read, MapFlags.Shared);
        var h = mapping.Handles;
        Assert.Equal(3, h.Count);
        Assert.Equal(3, driver.Maps.Count);

        mapping.Unmap(Page, 4 * Page);

        Assert.Equal(3, driver.Unmaps.Count);
        var (tail, whole, head) = (driver.Unmaps[0], driver.Unmaps[1], driver.Unmaps[2]);
        Assert.Equal((h[0], Page, Page, (DevmapHandle?)h[0], (DevmapHandle?)null), (tail.Dhp, tail.Off, tail.Len, tail.NewDhp1, tail.NewDhp2));
        Assert.Equal((h[1], 2 * Page, 2 * Page, (DevmapHandle?)null, (DevmapHandle?)null), (whole.Dhp, whole.Off, whole.Len, whole.NewDhp1, whole.NewDhp2));
        Assert.Equal((h[2], 4 * Page, Page, (DevmapHandle?)null, (DevmapHandle?)h[2]), (head.Dhp, head.Off, head.Len, head.NewDhp1, head.NewDhp2));
        Assert.Equal([h[0], h[2]], mapping.Handles);
        Assert.Equal([(0L, Page), (5 * Page, Page)], mapping.GetInfo().Regions.Select(r => (r.MappingOffset, r.Length)));

        // Unmapping what is already gone does nothing; the rest can still go.
        mapping.Unmap(2 * Page, 2 * Page);
        Assert.Equal(3, driver.Unmaps.Count);
        mapping.Unmap(0, 6 * Page);
        Assert.Equal(5, driver.Unmaps.Count);
        Assert.Equal(MappingState.Unmapped, mapping.State);
    }

    [Fact]
    public void UnmapArgumentsAndStatesAreChecked()
    {
        var (t, _, file, mapping, _) = MapFourPages();
        using (t)
        {
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => mapping.Unmap(0, 0)).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => mapping.Unmap(1, Page)).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => mapping.Unmap(0, Page + 1)).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => mapping.Unmap(3 * Page, 2 * Page)).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => mapping.Unmap(-Page, Page)).Errno);
            Assert.Equal(MappingState.Mapped, mapping.State);
            mapping.Unmap(0, 4 * Page);
            Assert.Equal(MappingState.Unmapped, mapping.State);
            Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => mapping.Unmap(0, Page)).Errno);
            Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => mapping.Export()).Errno);
            mapping.Dispose(); // idempotent
            Assert.Empty(file.Mappings);
            Assert.Null(t.Kernel.FindMapping(mapping.Id));
        }
    }

    [Fact]
    public void AThrowingUnmapCallbackIsReportedAndTheUnmapStillHappens()
    {
        var (t, driver, _, mapping, _) = MapFourPages();
        using (t)
        {
            driver.UnmapAssigns = _ => throw new InvalidOperationException("unmap bug");
            mapping.Unmap(0, 4 * Page);
            Assert.Equal(MappingState.Unmapped, mapping.State);
            Assert.Contains(t.Messages, m => m.Text.Contains("unmap bug", StringComparison.Ordinal));
            Assert.Equal(1, driver.Cookie!.References);
        }
    }
}
