using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>devmap_umem_setup(9F): every check, in illumos order, and what a success records on the handle.</summary>
public sealed class DevmapUmemSetupTests
{
    private static readonly long Page = SystemPage.Size;

    /// <summary>A driver whose devmap calls devmap_umem_setup with the arguments a test chooses.</summary>
    private sealed class Setup : IDisposable
    {
        private readonly TestKernel _t = new();

        internal Setup(int pages = 4, int grantPages = 1)
        {
            Driver = _t.Load("u", new ScriptedDriver("u0") { Pages = pages, GrantPages = grantPages });
            Cookie = Driver.Cookie;
            Driver.OnDevmap = (ScriptedDriver d, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model) =>
            {
                Handle = dhp;
                Result = DevmapUmemSetup(dhp, d.Dip, null, Cookie, Koff, Len, MaxProt, Flags, null);
                Reason = dhp.FailureReason;
                if (SecondCall) SecondResult = DevmapUmemSetup(dhp, d.Dip, null, Cookie, Koff, Len, MaxProt, Flags, null);
                maplen = Ptob(Btopr(Len));
                return Result == DdiResult.Success ? Errno.None : (Errno)(-1); // the C returns DDI_FAILURE itself
            };
            File = _t.Kernel.Open("u0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        }

        internal ScriptedDriver Driver { get; }

        internal TestKernel T => _t;

        internal DeviceFile File { get; }

        internal UmemCookie? Cookie { get; set; }

        internal long Koff { get; set; }

        internal long Len { get; set; } = Page;

        internal Prot MaxProt { get; set; } = Prot.All;

        internal DevmapFlags Flags { get; set; }

        internal bool SecondCall { get; set; }

        internal DdiResult? Result { get; private set; }

        internal DdiResult? SecondResult { get; private set; }

        internal string? Reason { get; private set; }

        internal DevmapHandle? Handle { get; private set; }

        /// <summary>Maps <paramref name="length"/> bytes with <paramref name="prot"/>; returns the mapping or the failure.</summary>
        internal (DeviceMapping? Mapping, ErrnoException? Error) Map(long length, Prot prot = Prot.Read | Prot.Write)
        {
            try
            {
                return (File.Map(0, length, prot, MapFlags.Shared), null);
            }
            catch (ErrnoException e)
            {
                return (null, e);
            }
        }

        /// <summary>Asserts the setup failed with <paramref name="reason"/> and the mmap got ENXIO carrying it.</summary>
        internal void AssertFails(string reason, long length = 0, Prot prot = Prot.Read | Prot.Write)
        {
            var (mapping, error) = Map(length == 0 ? Ptob(Btopr(Len)) : length, prot);
            Assert.Null(mapping);
            Assert.Equal(DdiResult.Failure, Result);
            Assert.Equal(-1, (int)Result!.Value);
            Assert.NotNull(Reason);
            Assert.Contains(reason, Reason, StringComparison.Ordinal);
            Assert.Equal(Errno.ENXIO, error!.Errno);
            Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        }

        public void Dispose() => _t.Dispose();
    }

    [Fact]
    public void NullCookieFails()
    {
        using var s = new Setup { Cookie = null };
        s.AssertFails("cookie is NULL");
    }

    [Fact]
    public void RangeBeyondTheCookieFailsOnTheUnroundedValues()
    {
        using var s = new Setup(pages: 2) { Koff = Page, Len = Page + 1 };
        s.AssertFails("exceeds the cookie's");

        // koff+len exactly at the end passes, though the rounded range differs: koff is rounded down, len up.
        using var ok = new Setup(pages: 2) { Koff = Page - 1, Len = Page + 1 };
        var (m, e) = ok.Map(2 * Page);
        Assert.Null(e);
        Assert.Equal(DdiResult.Success, ok.Result);
        Assert.Equal(0, ok.Handle!.KernelOffset);
        Assert.Equal(2 * Page, ok.Handle.Length);
        m!.Dispose();
    }

    [Fact]
    public void KoffIsRoundedDownAndLenUp()
    {
        using var s = new Setup { Koff = Page + 100, Len = 10 };
        var (m, e) = s.Map(Page);
        Assert.Null(e);
        var region = Assert.Single(m!.GetInfo().Regions);
        Assert.Equal(Page, region.KernelOffset);
        Assert.Equal(Page, region.Length);
        Assert.Equal(s.Cookie!.Id, region.CookieId);
    }

    [Theory]
    [InlineData(DevmapFlags.DataCached, true)]
    [InlineData(DevmapFlags.DataUncached, true)]
    [InlineData(DevmapFlags.DataUncachedWriteCombine, true)]
    [InlineData(DevmapFlags.DataCached | DevmapFlags.DataUncached, false)]
    [InlineData((DevmapFlags)0x80000, false)]
    [InlineData(DevmapFlags.AllowRemap, true)]
    [InlineData(DevmapFlags.UsePageSize, true)]
    public void CacheAttributesAndFlags(DevmapFlags flags, bool ok)
    {
        using var s = new Setup { Flags = flags };
        if (ok)
        {
            var (m, e) = s.Map(Page);
            Assert.Null(e);
            Assert.Equal(flags & (DevmapFlags)0x7, s.Handle!.Flags);
            m!.Dispose();
        }
        else
        {
            s.AssertFails("cache attributes");
        }
    }

    [Theory]
    [InlineData(0x8)]
    [InlineData(0x1000)]
    [InlineData(0x100000)]
    public void UndefinedFlagBitsAreRefused(int flags)
    {
        using var s = new Setup { Flags = (DevmapFlags)flags };
        s.AssertFails("must be 0");
    }

    [Fact]
    public void ASecondSetupOnTheSameHandleFails()
    {
        using var s = new Setup { SecondCall = true };
        var (m, e) = s.Map(Page);
        Assert.Null(e); // the first setup stands
        Assert.Equal(DdiResult.Success, s.Result);
        Assert.Equal(DdiResult.Failure, s.SecondResult);
        Assert.Contains("DEVMAP_SETUP_DONE", s.Handle!.FailureReason, StringComparison.Ordinal);
        Assert.Equal(2, s.Cookie!.References); // one reference for the handle, not two
        m!.Dispose();
        Assert.Equal(1, s.Cookie.References);
    }

    [Fact]
    public void MaxprotMustIncludeProtUser()
    {
        using var s = new Setup { MaxProt = Prot.Read | Prot.Write | Prot.Exec };
        s.AssertFails("must include PROT_USER");
    }

    [Fact]
    public void MaxprotMustCoverTheRequest()
    {
        using var s = new Setup { MaxProt = Prot.Read | Prot.User };
        s.AssertFails("does not cover", Page, Prot.Read | Prot.Write);
        var (m, e) = s.Map(Page, Prot.Read);
        Assert.Null(e);
        Assert.Equal(Prot.Read | Prot.User, s.Handle!.MaxProt);
        Assert.Equal(Prot.Read, Assert.Single(m!.GetSegments()).MaxProt);
    }

    [Fact]
    public void MappingInvalidNeedsAllowRemapAndIsNotSupported()
    {
        using (var s = new Setup { Flags = DevmapFlags.MappingInvalid })
            s.AssertFails("without DEVMAP_ALLOW_REMAP");
        using (var s = new Setup { Flags = DevmapFlags.MappingInvalid | DevmapFlags.AllowRemap })
            s.AssertFails("not supported");
    }

    [Fact]
    public void ChecksRunInIllumosOrder()
    {
        // A range beyond the cookie is reported before bad cache attributes, which come before a bad maxprot.
        using (var s = new Setup(pages: 1) { Koff = Page, Len = Page, Flags = (DevmapFlags)0x80000, MaxProt = Prot.Read })
            s.AssertFails("exceeds", Page);
        using (var s = new Setup { Flags = (DevmapFlags)0x30000, MaxProt = Prot.Read, })
            s.AssertFails("cache attributes", Page);
        using (var s = new Setup { MaxProt = Prot.Read, Flags = DevmapFlags.MappingInvalid })
            s.AssertFails("does not cover", Page);
    }

    [Fact]
    public void TheRangeMustFallOnGrantUnits()
    {
        using var s = new Setup(pages: 4, grantPages: 2) { Len = Page };
        s.AssertFails("grant units of");
        s.Koff = Page;
        s.Len = 2 * Page;
        s.AssertFails("grant units of");
        s.Koff = 2 * Page;
        var (m, e) = s.Map(2 * Page);
        Assert.Null(e);
        var segment = Assert.Single(m!.GetSegments()); // one memfd of two pages
        Assert.Equal(2 * Page, segment.Length);
        Assert.Equal(0, segment.FdOffset);
    }

    [Fact]
    public void UmemRefusesForeignFreedAndOutOfRangeArguments()
    {
        using var s = new Setup();
        using var other = new UmemAllocator(new UmemAllocatorOptions { CacheBytes = 0 });
        var foreign = other.Alloc(Page, UmemFlags.Pageable);
        s.Cookie = foreign;
        s.AssertFails("another allocator");
        other.Free(foreign);

        var mine = s.Driver.Ctx.Allocator.Alloc(Page, UmemFlags.Pageable);
        s.Driver.Ctx.Allocator.Free(mine);
        s.Cookie = mine;
        s.AssertFails("was freed");

        s.Cookie = s.Driver.Cookie;
        s.Koff = -Page;
        s.AssertFails("must be >= 0", Page);
        s.Koff = 0;
        s.Len = 0;
        s.AssertFails("positive", Page);
    }

    [Fact]
    public void AHandleOutsideItsDevmapCallCannotBeSetUp()
    {
        using var s = new Setup { Cookie = null };
        s.AssertFails("NULL");
        var stale = s.Handle!;
        Assert.Equal(DdiResult.Failure, DevmapUmemSetup(stale, null, null, s.Driver.Cookie, 0, Page, Prot.All, DevmapFlags.Defaults, null));
        Assert.Contains("freed", stale.FailureReason, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => DevmapUmemSetup(null!, null, null, s.Driver.Cookie, 0, Page, Prot.All, DevmapFlags.Defaults, null));
    }
}
