using System.Buffers.Binary;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;

namespace Umem.Tests.Ddi;

/// <summary>
/// The test driver module "regions", loaded with modload from its own assembly: one devmap handle per page, odd
/// pages read-only, so one mapping carries regions of different maxprot.
/// </summary>
public sealed class RegionsModuleTests
{
    private static readonly long Page = SystemPage.Size;

    // RegionsDriver's ioctl commands (tests/Umem.TestDrivers); the test does not reference that assembly, which
    // must load only in its own context.
    private const int IocCounts = 0x5201, IocWrite = 0x5202, IocRead = 0x5203;

    private static (int Maps, int Unmaps, int Live) Counts(DeviceFile file)
    {
        byte[] output = new byte[12];
        file.Ioctl(IocCounts, [], output, out int written, out _);
        Assert.Equal(12, written);
        return (BinaryPrimitives.ReadInt32LittleEndian(output), BinaryPrimitives.ReadInt32LittleEndian(output.AsSpan(4)),
            BinaryPrimitives.ReadInt32LittleEndian(output.AsSpan(8)));
    }

    private static int DriverRead(DeviceFile file, long offset)
    {
        byte[] input = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(input, offset);
        file.Ioctl(IocRead, input, [], out _, out int rval);
        return rval;
    }

    private static void DriverWrite(DeviceFile file, long offset, byte value)
    {
        byte[] input = new byte[9];
        BinaryPrimitives.WriteInt64LittleEndian(input, offset);
        input[8] = value;
        file.Ioctl(IocWrite, input, [], out _, out _);
    }

    [Fact]
    public void OneMappingCarriesRegionsOfDifferentMaxprot()
    {
        using var t = new TestKernel();
        var module = t.Kernel.ModLoad(TestDriverPaths.Regions);
        Assert.Equal("regions", module.Name);
        using var file = t.Kernel.Open("regions0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);

        using var mapping = file.Map(0, 4 * Page, Prot.Read, MapFlags.Shared);
        Assert.Equal(4, mapping.Handles.Count);
        Assert.Equal(["rwx", "r--", "rwx", "r--"], mapping.GetSegments().Select(s => s.MaxProt.ToLetters()));
        Assert.Equal([0L, Page, 2 * Page, 3 * Page], mapping.GetInfo().Regions.Select(r => r.KernelOffset));
        Assert.Equal((4, 0, 4), Counts(file));

        // A writable mapping may cover only the writable pages: page 1 refuses PROT_WRITE, so the mmap fails.
        var e = Assert.Throws<ErrnoException>(() => file.Map(0, 2 * Page, Prot.Read | Prot.Write, MapFlags.Shared));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("does not cover", e.Message, StringComparison.Ordinal);
        Assert.Equal((4, 0, 4), Counts(file)); // devmap_map runs only after every devmap(9E) succeeded: nothing was told
        using var rw = file.Map(2 * Page, Page, Prot.Read | Prot.Write, MapFlags.Shared);

        // The driver's writes are seen by the application and the other way round.
        using var export = rw.Export();
        using var client = ClientMap.Map(Assert.Single(export.Segments), write: true);
        ClientMap.Span(client)[5] = 0x42;
        Assert.Equal(0x42, DriverRead(file, 2 * Page + 5));
        DriverWrite(file, 2 * Page + 6, 0x17);
        Assert.Equal(0x17, ClientMap.Span(client)[6]);

        // A mapping asked for PROT_READ through a file open for writing may later be mprotect'ed up to each region's
        // maxprot (segdev_setprot): its export grants what the region allows, not what the first request asked.
        using var roExport = mapping.Export();
        Assert.Equal([false, true, false, true], roExport.Segments.Select(s => s.ReadOnly));
        Assert.Equal(["rwx", "r--", "rwx", "r--"], roExport.Segments.Select(s => s.MaxProt.ToLetters()));
        using var roClient = ClientMap.Map(roExport.Segments[2], write: false);
        Assert.Equal(0x42, ClientMap.Span(roClient)[5]);
        using (ClientMap.Map(roExport.Segments[2], write: true)) { }
        Assert.Equal(Errno.EACCES, Assert.Throws<ErrnoException>(() => ClientMap.Map(roExport.Segments[1], write: true)).Errno);

        // Through a file open only for reading, every region of a shared mapping is read-only (smmap_common).
        using (var reader = t.Kernel.Open("regions0", OpenFlags.Read, Creds.Root64))
        using (var readMapping = reader.Map(0, 2 * Page, Prot.Read, MapFlags.Shared))
        using (var readExport = readMapping.Export())
        {
            Assert.All(readExport.Segments, s => Assert.True(s.ReadOnly));
            Assert.Equal(["r-x", "r--"], readExport.Segments.Select(s => s.MaxProt.ToLetters()));
            Assert.Equal(Errno.EACCES, Assert.Throws<ErrnoException>(() => ClientMap.Map(readExport.Segments[0], write: true)).Errno);
        }

        mapping.Unmap(Page, 2 * Page);
        Assert.Equal((7, 4, 3), Counts(file)); // the rw mapping added one, the reader's two came and went; two of the four pages went whole
    }

    [Fact]
    public void TheMappingQueryShowsWhoMappedWhat()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Regions);
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        var cred = Creds.User(1234, 56, DataModel.ILP32) with { ProjectId = 7, ZoneId = 0 };
        using var f1 = t.Kernel.Open("regions0", OpenFlags.Read, cred);
        using var f2 = t.Kernel.Open("xx0", OpenFlags.Read, Creds.Root64);
        using var m1 = f1.Map(Page, 2 * Page, Prot.Read, MapFlags.Shared);
        using var m2 = f2.Map(0, Page, Prot.Read, MapFlags.Shared);

        var all = t.Kernel.GetMappings();
        Assert.Equal([m1.Id, m2.Id], all.Select(m => m.Id));
        var info = all[0];
        Assert.Equal("regions", info.Module);
        Assert.Equal("regions0", info.Node);
        Assert.Equal(cred, info.Cred);
        Assert.Equal(DataModel.ILP32, info.Cred.Model);
        Assert.Equal(7, info.Cred.ProjectId);
        Assert.Equal((Page, 2 * Page, Prot.Read, MapFlags.Shared, MappingState.Mapped), (info.Offset, info.Length, info.Prot, info.Flags, info.State));
        // Page 2 is PROT_ALL in the driver, but the file is open read-only: MAP_SHARED gets no PROT_WRITE.
        Assert.Equal([(0L, Page, Page, "r--"), (Page, Page, 2 * Page, "r-x")],
            info.Regions.Select(r => (r.MappingOffset, r.Length, r.DeviceOffset, r.MaxProt.ToLetters())));

        Assert.Equal([m1.Id], t.Kernel.FindModule("regions")!.GetMappings().Select(m => m.Id));
        Assert.Equal([m2.Id], t.Kernel.FindModule("xx")!.GetMappings().Select(m => m.Id));
        Assert.Same(m1, t.Kernel.FindMapping(m1.Id));
        Assert.Same(f1, t.Kernel.FindFile(f1.Id));
        var modinfo = t.Kernel.ModInfo().Single(m => m.Name == "regions");
        Assert.Equal((1, 1), (modinfo.OpenFiles, modinfo.Mappings));
        Assert.Equal(1, t.Kernel.FindNode("regions0")!.Mappings);

        m1.Dispose();
        Assert.Equal([m2.Id], t.Kernel.GetMappings().Select(m => m.Id));
        Assert.Equal(0, t.Kernel.FindNode("regions0")!.Mappings);
    }
}
