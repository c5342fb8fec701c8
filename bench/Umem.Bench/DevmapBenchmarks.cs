using BenchmarkDotNet.Attributes;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Bench;

/// <summary>
/// The cost of the DDI mapping path for one page, beside the raw system calls a mapping of a memfd page costs:
/// mmap(MAP_SHARED) + munmap. <c>MapUnmap</c> is the framework alone (smmap checks, segmap, devmap,
/// devmap_umem_setup, devmap_map, then devmap_unmap); <c>MapExportClientMapUnmap</c> adds what the host and an
/// in-process client do with the result (export, mmap of the segment's fd, munmap).
/// </summary>
[MemoryDiagnoser]
public class DevmapBenchmarks
{
    private UmemAllocator _allocator = null!;
    private UmemKernel _kernel = null!;
    private DeviceFile _file = null!;
    private SafeFd _memfd = null!;
    private long _page;

    [GlobalSetup]
    public void Setup()
    {
        _page = SystemPage.Size;
        _allocator = new UmemAllocator(new UmemAllocatorOptions { Name = "umem-bench" });
        _kernel = new UmemKernel(_allocator);
        _kernel.ModLoad("bench", () => new OnePageDriver());
        _file = _kernel.Open("bench0", OpenFlags.Read | OpenFlags.Write, new Cred(Environment.ProcessId, 0, 0, DataModel.LP64));
        _memfd = MemFd.CreateSealed("umem-bench-raw", _page);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file.Dispose();
        _kernel.Dispose();
        _allocator.Dispose();
        _memfd.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void RawMmapMunmap()
    {
        using var region = MappedRegion.MapShared(_memfd, 0, _page, Interop.PROT_READ | Interop.PROT_WRITE);
    }

    [Benchmark]
    public void MapUnmap()
    {
        var mapping = _file.Map(0, _page, Prot.Read | Prot.Write, MapFlags.Shared);
        mapping.Unmap(0, _page);
    }

    [Benchmark]
    public void MapExportClientMapUnmap()
    {
        var mapping = _file.Map(0, _page, Prot.Read | Prot.Write, MapFlags.Shared);
        using (var export = mapping.Export())
        {
            var s = export.Segments[0];
            using var region = MappedRegion.MapShared(s.Fd, s.FdOffset, s.Length, Interop.PROT_READ | Interop.PROT_WRITE);
        }
        mapping.Unmap(0, _page);
    }

    /// <summary>xx's shape without the model redirect: one page, exported whole, with map/unmap callbacks.</summary>
    private sealed class OnePageDriver : Driver, IDevmap
    {
        private UmemCookie? _cookie;
        private readonly DevmapCallbacks _callbacks = new()
        {
            Map = static (DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp) =>
            {
                pvtp = null;
                return Errno.None;
            },
            Unmap = static (DevmapHandle dhp, object? pvtp, long off, long len, DevmapHandle? d1, ref object? p1, DevmapHandle? d2, ref object? p2) => { },
        };

        protected internal override DdiResult Attach(DevInfo dip, AttachCommand cmd)
        {
            _cookie = dip.Context.Allocator.Alloc(Ptob(1), UmemFlags.Pageable);
            return dip.CreateMinorNode("bench0", SpecType.Char, 0, NodeTypes.Pseudo);
        }

        protected internal override DdiResult Detach(DevInfo dip, DetachCommand cmd)
        {
            dip.Context.Allocator.Free(_cookie!);
            return DdiResult.Success;
        }

        public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
        {
            maplen = Ptob(Btopr(len));
            return DevmapUmemSetup(dhp, null, _callbacks, _cookie, off, maplen, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
                ? Errno.None : Errno.ENXIO;
        }
    }
}
