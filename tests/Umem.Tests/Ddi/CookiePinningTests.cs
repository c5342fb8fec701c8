using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;

namespace Umem.Tests.Ddi;

/// <summary>An exported cookie is pinned by its mappings: ddi_umem_free of a mapped cookie defers the release.</summary>
public sealed class CookiePinningTests
{
    private static readonly long Page = SystemPage.Size;

    [Fact]
    public void FreeingAMappedCookieDefersItsMemoryUntilTheLastUnmap()
    {
        using var t = new TestKernel();
        var driver = t.Load("pin", new ScriptedDriver("pin0") { Pages = 3 });
        using var file = t.Kernel.Open("pin0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        var mapping = file.Map(0, 3 * Page, Prot.Read | Prot.Write, MapFlags.Shared);
        var cookie = driver.Cookie!;
        Assert.Equal(2, cookie.References);
        using var export = mapping.Export();
        using var client = ClientMap.Map(export.Segments[2], write: true);
        export.Dispose();

        driver.Ctx.Allocator.Free(cookie);
        Assert.True(cookie.IsFreed);
        Assert.Equal(1, t.Allocator.GetStatistics().DeferredCount);
        Assert.Equal(3 * Page, t.Allocator.GetStatistics().TotalBytes);

        // A hole splits the handle; both pieces keep the memory.
        mapping.Unmap(Page, Page);
        Assert.Equal(2, mapping.Handles.Count);
        ClientMap.Span(client)[0] = 9; // still the driver's memory, still mapped
        mapping.Unmap(0, Page);
        Assert.Equal(3 * Page, t.Allocator.GetStatistics().TotalBytes);
        mapping.Unmap(2 * Page, Page);
        Assert.Equal(MappingState.Unmapped, mapping.State);
        Assert.Equal(0, t.Allocator.GetStatistics().DeferredCount);
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
        Assert.Equal(9, ClientMap.Span(client)[0]); // the client's own mapping of the memfd outlives everything
    }

    [Fact]
    public void AnExportKeepsTheMemoryPastTheUnmap()
    {
        using var t = new TestKernel();
        var driver = t.Load("pin", new ScriptedDriver("pin0") { Pages = 1 });
        using var file = t.Kernel.Open("pin0", OpenFlags.Read, Creds.Root64);
        var mapping = file.Map(0, Page, Prot.Read, MapFlags.Shared);
        var export = mapping.Export();
        mapping.Dispose();
        driver.Ctx.Allocator.Free(driver.Cookie!);
        Assert.Equal(Page, t.Allocator.GetStatistics().TotalBytes);
        Assert.False(export.Segments[0].Fd.IsClosed);
        using (var client = ClientMap.Map(export.Segments[0], write: false))
            Assert.Equal(0, ClientMap.Span(client)[0]);
        export.Dispose();
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }

    /// <summary>
    /// An export of a mapping whose cookie the driver already freed takes references of its own (the mapping's handle
    /// holds one, so another may be added after the free): the memory outlives the mapping until the export goes.
    /// </summary>
    [Fact]
    public void AnExportAfterTheFreeHoldsTheMemoryOfItsOwn()
    {
        using var t = new TestKernel();
        var driver = t.Load("pin", new ScriptedDriver("pin0") { Pages = 2 });
        using var file = t.Kernel.Open("pin0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        var mapping = file.Map(0, 2 * Page, Prot.Read | Prot.Write, MapFlags.Shared);
        var cookie = driver.Cookie!;
        driver.Ctx.Allocator.Free(cookie);
        Assert.Equal(1, cookie.References); // the handle's
        var export = mapping.Export();
        Assert.Equal(2, cookie.References); // and the export's
        mapping.Dispose();
        Assert.Equal(1, cookie.References);
        Assert.Equal(2 * Page, t.Allocator.GetStatistics().TotalBytes);
        using (var client = ClientMap.Map(export.Segments[1], write: true))
            ClientMap.Span(client)[0] = 7;
        export.Dispose();
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
        // Nothing held any more: a further reference may not be taken from nothing.
        Assert.Throws<InvalidOperationException>(cookie.AddHeldReference);
    }

    [Fact]
    public void AFreedCookieCannotBeExportedAgain()
    {
        using var t = new TestKernel();
        var driver = t.Load("pin", new ScriptedDriver("pin0") { Pages = 1 });
        using var file = t.Kernel.Open("pin0", OpenFlags.Read, Creds.Root64);
        using var mapping = file.Map(0, Page, Prot.Read, MapFlags.Shared);
        driver.Ctx.Allocator.Free(driver.Cookie!);
        var e = Assert.Throws<ErrnoException>(() => file.Map(0, Page, Prot.Read, MapFlags.Shared));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("was freed", e.Message, StringComparison.Ordinal);
    }
}
