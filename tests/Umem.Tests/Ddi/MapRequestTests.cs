using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>The mmap path: smmap_common's checks, then devmap_setup's, each with its errno (grow.c, seg_dev.c).</summary>
public sealed class MapRequestTests
{
    private static readonly long Page = SystemPage.Size;

    private static ErrnoException MapFails(DeviceFile file, long off, long len, Prot prot, MapFlags flags) =>
        Assert.Throws<ErrnoException>(() => file.Map(off, len, prot, flags));

    [Fact]
    public void SmmapChecks()
    {
        using var t = new TestKernel();
        t.Load("s", new ScriptedDriver("s0"));
        using var rw = t.Kernel.Open("s0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        using var ro = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        using var wo = t.Kernel.Open("s0", OpenFlags.Write, Creds.Root64);

        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, 0, Prot.Read, MapFlags.Shared).Errno);            // len == 0
        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, -Page, Prot.Read, MapFlags.Shared).Errno);
        Assert.Equal(Errno.EINVAL, MapFails(rw, 100, Page, Prot.Read, MapFlags.Shared).Errno);       // unaligned offset
        Assert.Equal(Errno.EINVAL, MapFails(rw, -Page, Page, Prot.Read, MapFlags.Shared).Errno);
        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, Page, Prot.Read, (MapFlags)0).Errno);             // no type
        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, Page, Prot.Read, MapFlags.Shared | MapFlags.Private).Errno);
        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, Page, Prot.Read, MapFlags.Shared | (MapFlags)0x10).Errno); // MAP_FIXED etc.
        Assert.Equal(Errno.EINVAL, MapFails(rw, 0, Page, Prot.Read | Prot.User, MapFlags.Shared).Errno); // PROT_USER is the kernel's
        Assert.Equal(Errno.EOVERFLOW, MapFails(rw, long.MaxValue - Page + 1, 2 * Page, Prot.Read, MapFlags.Shared).Errno);

        // MAP_SHARED + PROT_WRITE needs FWRITE; any mapping needs FREAD.
        var e = MapFails(ro, 0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.Equal(Errno.EACCES, MapFails(wo, 0, Page, Prot.Write, MapFlags.Shared).Errno);
        using var readOnlyShared = ro.Map(0, Page, Prot.Read, MapFlags.Shared);
        // MAP_PRIVATE + PROT_WRITE passes smmap (a private copy would be writable), but devmap_setup refuses
        // MAP_PRIVATE without a devmap_access callback.
        var priv = MapFails(ro, 0, Page, Prot.Read | Prot.Write, MapFlags.Private);
        Assert.Equal(Errno.EINVAL, priv.Errno);
        Assert.Contains("MAP_PRIVATE", priv.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LengthIsRoundedUpToWholePages()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        using var m = file.Map(Page, 10, Prot.Read, MapFlags.Shared);
        Assert.Equal(Page, m.Length);
        var map = Assert.Single(driver.Maps);
        Assert.Equal(Page, map.Off);
        Assert.Equal(Page, map.Len);
    }

    [Fact]
    public void ProtAndMaxprotReachTheHandleAsIllumosSetsThem()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedSegmapDriver("s0"));
        (Prot Prot, Prot MaxProt)? seen = null;
        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) =>
        {
            seen = (prot, maxprot);
            return DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred);
        };
        using var ro = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        using var m = ro.Map(0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal((Prot.Read | Prot.User, Prot.All & ~Prot.Write), seen);
        var dhp = Assert.Single(m.Handles);
        Assert.Equal(Prot.Read | Prot.User, dhp.Prot);
        Assert.Equal(Prot.Read | Prot.Exec | Prot.User, dhp.MaxProt); // PROT_ALL & orig maxprot (no write)
        Assert.Equal(Prot.Read | Prot.Exec, Assert.Single(m.GetSegments()).MaxProt);
    }

    [Fact]
    public void DevmapNonzeroBecomesEnxio()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            maplen = 0;
            return Errno.EPERM;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        var e = MapFails(file, 0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("returned EPERM", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DevmapThatThrowsBecomesEnxio()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
            throw new InvalidOperationException("bug in devmap");
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(Errno.ENXIO, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);
        Assert.Contains(t.Messages, m => m.Text.Contains("bug in devmap", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100, Errno.EINVAL, "not a multiple of the page size")]         // illumos: map_len & PAGEOFFSET
    [InlineData(0, Errno.EINVAL, "would call devmap(9E) forever")]            // Umem: illumos loops forever
    [InlineData(-1, Errno.EINVAL, "negative")]
    public void BadMaplenIsRefused(long maplenPages, Errno errno, string reason)
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            DevmapUmemSetup(dhp, d.Dip, null, d.Cookie, off, len, Prot.All, DevmapFlags.Defaults, null);
            maplen = maplenPages == 100 ? 100 : maplenPages * Page;
            return Errno.None;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        var e = MapFails(file, 0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(errno, e.Errno);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, t.Allocator.GetStatistics().DeferredCount);
        Assert.Equal(1, driver.Cookie!.References); // the handle's reference went with it
    }

    [Fact]
    public void DevmapThatSetsNothingUpIsRefused()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            maplen = len; // "success" without devmap_umem_setup: illumos would map nothing in particular
            return Errno.None;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        var e = MapFails(file, 0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("without calling devmap_umem_setup", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaplenBeyondTheRequestOrBesideTheSetupIsRefused()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        long claim = 0, export = 0;
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            DevmapUmemSetup(dhp, d.Dip, null, d.Cookie, off, export, Prot.All, DevmapFlags.Defaults, null);
            maplen = claim;
            return Errno.None;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        (claim, export) = (2 * Page, 2 * Page);
        var beyond = MapFails(file, 0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.EINVAL, beyond.Errno);
        Assert.Contains("beyond the", beyond.Message, StringComparison.Ordinal);
        (claim, export) = (Page, 2 * Page);
        var beside = MapFails(file, 0, 2 * Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.EINVAL, beside.Errno);
        Assert.Contains("exported 8192", beside.Message.Replace(Page.ToString(), "4096", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void AnAccessCallbackIsRefusedAsDeferred()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.AccessCallback = (DevmapHandle dhp, object? pvtp, long off, long len, FaultType type, SegRw rw) => Errno.None;
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(Errno.EOPNOTSUPP, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, MapFails(file, 0, Page, Prot.Read, MapFlags.Private).Errno);
        Assert.Empty(driver.Maps);
    }

    [Fact]
    public void SegmapThatSetsUpNothingIsRefused()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedSegmapDriver("s0"));
        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) => Errno.None;
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        var e = MapFails(file, 0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("without setting up a mapping", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmapErrnoReachesTheCallerAndUndoesItsMapping()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedSegmapDriver("s0"));
        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) =>
        {
            Assert.Equal(Errno.None, DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred));
            return Errno.ENOSPC;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(Errno.ENOSPC, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);
        var map = Assert.Single(driver.Maps);
        var unmap = Assert.Single(driver.Unmaps); // the mapping it set up was torn down with devmap_unmap
        Assert.Same(map.Dhp, unmap.Dhp);
        Assert.Null(unmap.NewDhp1);
        Assert.Null(unmap.NewDhp2);
        Assert.Equal(1, driver.Cookie!.References);
        Assert.Empty(t.Kernel.GetMappings());
    }

    [Fact]
    public void DevmapSetupChecksWhatSegmapPasses()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedSegmapDriver("s0"));
        using var file = t.Kernel.Open("s0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);

        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) =>
        {
            Assert.Equal(Errno.None, DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred));
            return DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred);
        };
        Assert.Contains("already called", MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Message, StringComparison.Ordinal);

        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) => DevmapSetup(dev, off, target, len + Page, prot, maxprot, flags, cred);
        Assert.Equal(Errno.EINVAL, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);

        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) => DevmapSetup(dev, off, target, len, prot | Prot.Write, maxprot, flags, cred);
        Assert.Equal(Errno.EINVAL, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);

        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) => DevmapSetup(MakeDevice(dev.Major + 1, 0), off, target, len, prot, maxprot, flags, cred);
        Assert.Equal(Errno.EINVAL, MapFails(file, 0, Page, Prot.Read, MapFlags.Shared).Errno);

        // A segmap may offset the device range; it may not widen maxprot beyond what mmap allowed.
        using var ro = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        driver.OnSegmap = (d, dev, off, target, len, prot, maxprot, flags, cred) => DevmapSetup(dev, off + Page, target, len, prot, Prot.All, flags, cred);
        using var m = ro.Map(0, Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Page, m.Handles[0].Offset);
        Assert.Equal(Prot.None, m.Handles[0].MaxProt & Prot.Write);
    }

    [Fact]
    public void MapCallbackFailureUnmapsTheHandlesAlreadyToldAndFailsWithEnxio()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            maplen = Page; // one page per handle
            return DevmapUmemSetup(dhp, d.Dip, d.Callbacks, d.Cookie, off, Page, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
                ? Errno.None : Errno.ENXIO;
        };
        int calls = 0;
        driver.MapCallback = (DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp) =>
        {
            pvtp = $"p{calls}";
            return ++calls == 3 ? Errno.ENOMEM : Errno.None;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        var e = MapFails(file, 0, 4 * Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Equal(3, calls);
        Assert.Equal(2, driver.Unmaps.Count); // handles 0 and 1, each whole, with their private data
        Assert.Equal((0L, Page, "p0"), (driver.Unmaps[0].Off, driver.Unmaps[0].Len, driver.Unmaps[0].Pvtp));
        Assert.Equal((Page, Page, "p1"), (driver.Unmaps[1].Off, driver.Unmaps[1].Len, driver.Unmaps[1].Pvtp));
        Assert.All(driver.Unmaps, u => Assert.True(u.NewDhp1 is null && u.NewDhp2 is null));
        Assert.Equal(1, driver.Cookie!.References);
    }

    [Fact]
    public void SegmapAndDevmapSeeTheRequestersModel()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedSegmapDriver("s0"));
        using (var f32 = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root32))
        using (f32.Map(0, Page, Prot.Read, MapFlags.Shared)) { }
        using (var f64 = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64))
        using (f64.Map(0, Page, Prot.Read, MapFlags.Shared)) { }
        Assert.Equal([DataModel.ILP32, DataModel.LP64], driver.SegmapModels);
        Assert.Equal([DataModel.ILP32, DataModel.LP64], driver.DevmapModels);
        Assert.Throws<InvalidOperationException>(() => MmapGetModel()); // gone after the request
    }

    [Fact]
    public void DevmapIsCalledAgainForTheRestWithANewHandleEachTime()
    {
        using var t = new TestKernel();
        var driver = t.Load("s", new ScriptedDriver("s0"));
        var requests = new List<(long Off, long Len, DevmapHandle Dhp)>();
        long[] pagesPerCall = [1, 2, 1];
        driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
        {
            maplen = pagesPerCall[requests.Count] * Page;
            requests.Add((off, len, dhp));
            // Device offset Page maps the cookie from 0.
            return DevmapUmemSetup(dhp, d.Dip, null, d.Cookie, off - Page, maplen, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
                ? Errno.None : Errno.ENXIO;
        };
        using var file = t.Kernel.Open("s0", OpenFlags.Read, Creds.Root64);
        using var m = file.Map(Page, 4 * Page, Prot.Read, MapFlags.Shared);
        Assert.Equal([(Page, 4 * Page), (2 * Page, 3 * Page), (4 * Page, Page)], requests.Select(r => (r.Off, r.Len)));
        Assert.Equal(3, requests.Select(r => r.Dhp).Distinct().Count());
        var info = m.GetInfo();
        Assert.Equal([(0L, Page, Page, 0L), (Page, 2 * Page, 2 * Page, Page), (3 * Page, Page, 4 * Page, 3 * Page)],
            info.Regions.Select(r => (r.MappingOffset, r.Length, r.DeviceOffset, r.KernelOffset)));
    }
}
