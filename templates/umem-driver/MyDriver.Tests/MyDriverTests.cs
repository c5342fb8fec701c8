using System.IO.MemoryMappedFiles;
using System.Reflection;
using Microsoft.Win32.SafeHandles;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace MyDriver.Tests;

/// <summary>
/// The driver in this process through the real kernel, with the calls umemd makes for its clients: modload,
/// open, mmap (devmap runs), export the memfds, map them as an application would, and modunload.
/// </summary>
public sealed class MyDriverTests : IDisposable
{
    private static readonly long Page = SystemPage.Size;
    private static readonly Cred App64 = new(Pid: 4242, Uid: 1000, Gid: 1000, DataModel.LP64);

    private readonly UmemAllocator _allocator = new(new UmemAllocatorOptions { Name = "mydriver-test", CacheBytes = 0 });
    private readonly UmemKernel _kernel;

    public MyDriverTests() => _kernel = new UmemKernel(_allocator);

    private static string DriverPath =>
        typeof(MyDriverTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MyDriverPath").Value!;

    [Fact]
    public void TwoApplicationsShareThePage()
    {
        _kernel.ModLoad(DriverPath);
        using var fileA = _kernel.Open("mydriver0", OpenFlags.Read | OpenFlags.Write, App64);
        using var fileB = _kernel.Open("mydriver0", OpenFlags.Read | OpenFlags.Write, App64 with { Pid = 4343 });
        using var mapA = fileA.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        using var mapB = fileB.Map(0, Page, Prot.Read | Prot.Write, MapFlags.Shared);
        using var exportA = mapA.Export();
        using var exportB = mapB.Export();
        using var viewA = ClientView.Map(Assert.Single(exportA.Segments));
        using var viewB = ClientView.Map(Assert.Single(exportB.Segments));

        Assert.Equal(0, viewB.Accessor.ReadInt64(0)); // ddi_umem_alloc memory is zero-filled
        viewA.Accessor.Write(0, 0x1234_5678_9abc_def0L);
        Assert.Equal(0x1234_5678_9abc_def0L, viewB.Accessor.ReadInt64(0));
    }

    [Fact]
    public void ARangeBeyondThePageIsEnxio()
    {
        _kernel.ModLoad(DriverPath);
        using var file = _kernel.Open("mydriver0", OpenFlags.Read, App64);
        var e = Assert.Throws<ErrnoException>(() => file.Map(0, 2 * Page, Prot.Read, MapFlags.Shared));
        Assert.Equal(Errno.ENXIO, e.Errno);
    }

    [Fact]
    public void UnloadFreesEverything()
    {
        _kernel.ModLoad(DriverPath, new ModuleOptions { Instances = 2 });
        Assert.Equal(2 * Page, _allocator.GetStatistics().TotalBytes); // one page per instance
        using (var file = _kernel.Open("mydriver1", OpenFlags.Read, App64))
        using (file.Map(0, Page, Prot.Read, MapFlags.Shared))
        {
        }
        var report = _kernel.ModUnload("mydriver");
        Assert.Empty(report.Leaks);
        Assert.Equal(0, _allocator.GetStatistics().TotalBytes);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _allocator.Dispose();
    }

    /// <summary>An exported memfd mapped MAP_SHARED in this process, as an application maps what it receives.</summary>
    private sealed class ClientView : IDisposable
    {
        private readonly SafeFileHandle _handle;
        private readonly MemoryMappedFile _file;

        private ClientView(ExportedSegment segment)
        {
            var access = segment.ReadOnly ? MemoryMappedFileAccess.Read : MemoryMappedFileAccess.ReadWrite;
            _handle = new SafeFileHandle(segment.Fd.DangerousGetHandle(), ownsHandle: false);
            _file = MemoryMappedFile.CreateFromFile(_handle, null, 0, access, HandleInheritability.None, leaveOpen: true);
            Accessor = _file.CreateViewAccessor(segment.FdOffset, segment.Length, access);
        }

        public MemoryMappedViewAccessor Accessor { get; }

        public static ClientView Map(ExportedSegment segment) => new(segment);

        public void Dispose()
        {
            Accessor.Dispose();
            _file.Dispose();
            _handle.Dispose();
        }
    }
}
