using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Tests.Ddi;

/// <summary>
/// The seed's driver end to end in this process, through exactly the calls the host makes: open xx0, mmap, export
/// the segments, map the memfd as a client would, and see the bytes in the driver's cookie.
/// </summary>
public sealed class XxDriverTests
{
    private static readonly long Page = SystemPage.Size;

    private static UmemCookie CookieOf(DeviceMapping mapping) => mapping.Handles[0].Cookie!;

    [Fact]
    public void AWriteThroughTheMappingIsInTheCookieAndBack()
    {
        using var t = new TestKernel();
        var module = t.Kernel.ModLoad(TestDriverPaths.Xx);
        Assert.Equal(0, module.Allocator.LiveCount); // segmap allocates lazily

        using var file = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        using var mapping = file.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        using var export = mapping.Export();
        var segment = Assert.Single(export.Segments);
        Assert.False(segment.ReadOnly);
        Assert.Equal((0L, Page, 0L), (segment.Offset, segment.Length, segment.FdOffset));
        Assert.Equal(Prot.Read | Prot.Write | Prot.Exec, segment.MaxProt); // PROT_ALL without PROT_USER

        using var client = ClientMap.Map(segment, write: true);
        "hello from the application"u8.CopyTo(ClientMap.Span(client));

        var cookie = CookieOf(mapping);
        Assert.Equal(2 * Page, cookie.Size); // two pages: one per data model
        Assert.Equal(UmemCookieType.KmemPageable, cookie.Type); // DDI_UMEM_PAGEABLE
        Assert.True(cookie.Span[..26].SequenceEqual("hello from the application"u8));

        "and from the driver"u8.CopyTo(cookie.GetSpan(100, 19));
        Assert.True(ClientMap.Span(client).Slice(100, 19).SequenceEqual("and from the driver"u8));
        Assert.Equal(1, module.Allocator.LiveCount);
        Assert.True(cookie.Backing.EverGranted); // exported: never reused
    }

    [Fact]
    public void Lp64AppsSharePageZeroAndIlp32AppsPageOne()
    {
        using var t = new TestKernel();
        var module = t.Kernel.ModLoad(TestDriverPaths.Xx);
        using var f64 = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        using var f32 = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.Root32);
        using var f64b = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.User(5, 5, DataModel.LP64));
        using var m64 = f64.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        using var m32 = f32.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        using var m64b = f64b.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);

        Assert.Equal(0, m64.GetInfo().Regions[0].KernelOffset);
        Assert.Equal(Page, m32.GetInfo().Regions[0].KernelOffset); // koff += ptob(1)
        Assert.Equal(m64.GetInfo().Regions[0].CookieId, m32.GetInfo().Regions[0].CookieId);
        Assert.Equal(1, module.Allocator.LiveCount); // one allocation, whoever came first

        using var e64 = m64.Export();
        using var e32 = m32.Export();
        using var e64b = m64b.Export();
        using var c64 = ClientMap.Map(e64.Segments[0], write: true);
        using var c32 = ClientMap.Map(e32.Segments[0], write: true);
        using var c64b = ClientMap.Map(e64b.Segments[0], write: false);
        ClientMap.Span(c64)[0] = 64;
        ClientMap.Span(c32)[0] = 32;

        var cookie = CookieOf(m64);
        Assert.Equal(64, cookie.Span[0]);
        Assert.Equal(32, cookie.Span[(int)Page]);
        Assert.Equal(64, ClientMap.Span(c64b)[0]); // another 64-bit application shares page 0
        Assert.Equal(64, ClientMap.Span(c64)[0]); // the 32-bit write did not reach page 0
    }

    [Fact]
    public void TheRangeCheckReturnsEnxio()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        using var file = t.Kernel.Open("xx0", OpenFlags.Read, Creds.Root64);
        // if (off + len > ptob(1)) return (ENXIO);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => file.Map(0, 2 * Page, Prot.Read, MapFlags.Shared)).Errno);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => file.Map(Page, Page, Prot.Read, MapFlags.Shared)).Errno);
        // A 32-bit request for page 0 is fine: it is redirected to page 1.
        using var f32 = t.Kernel.Open("xx0", OpenFlags.Read, Creds.Root32);
        using var m = f32.Map(0, 100, Prot.Read, MapFlags.Shared);
        Assert.Equal(Page, m.GetInfo().Regions[0].KernelOffset);
    }

    [Fact]
    public void DetachFreesTheMemory()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Xx, new ModuleOptions { Instances = 2 });
        foreach (var name in new[] { "xx0", "xx1" })
        {
            using var f = t.Kernel.Open(name, OpenFlags.Read, Creds.Root64);
            using var m = f.Map(0, Page, Prot.Read, MapFlags.Shared);
        }
        Assert.Equal(4 * Page, t.Allocator.GetStatistics().TotalBytes); // each instance has its own two pages
        var report = t.Kernel.ModUnload("xx");
        Assert.Empty(report.Leaks);
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void AReadOnlyRequestGetsAReadOnlyFd()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        using var file = t.Kernel.Open("xx0", OpenFlags.Read, Creds.User(1000, 1000));
        using var mapping = file.Map(0, Page, Prot.Read, MapFlags.Shared);
        using var export = mapping.Export();
        var segment = Assert.Single(export.Segments);
        Assert.True(segment.ReadOnly);
        Assert.Equal(Prot.None, segment.MaxProt & Prot.Write);
        Assert.NotSame(mapping.GetSegments()[0].Fd, segment.Fd);

        var refused = Assert.Throws<ErrnoException>(() => ClientMap.Map(segment, write: true));
        Assert.Equal(Errno.EACCES, refused.Errno); // the OS, not the client library, enforces it
        using var readable = ClientMap.Map(segment, write: false);
        CookieOf(mapping).Span[7] = 0x5A;
        Assert.Equal(0x5A, ClientMap.Span(readable)[7]);

        export.Dispose();
        Assert.True(segment.Fd.IsClosed); // the export owned its read-only reopen
        Assert.False(mapping.GetSegments()[0].Fd.IsClosed);
    }

    [Fact]
    public void ManyRequestersAtOnce()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        int failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var cred = worker % 2 == 0 ? Creds.User((uint)worker, 1, DataModel.LP64) : Creds.User((uint)worker, 1, DataModel.ILP32);
            for (int i = 0; i < 40; i++)
            {
                try
                {
                    using var file = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, cred);
                    var mapping = file.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
                    using (var export = mapping.Export())
                    using (var client = ClientMap.Map(export.Segments[0], write: true))
                        ClientMap.Span(client)[worker] = (byte)i;
                    if (i % 3 == 0) file.Close(); // close first, unmap later
                    mapping.Unmap(0, Page);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        Assert.Equal(0, failures);
        Assert.Empty(t.Kernel.GetMappings());
        Assert.Equal(0, t.Kernel.FindNode("xx0")!.OpenFiles);
        Assert.Empty(t.Kernel.ModUnload("xx").Leaks);
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }
}
