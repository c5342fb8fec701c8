using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Umem.Bench.Memory;
using Umem.Bench.Scale;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Large;

/// <summary>
/// Issue 13, any size in constant time, through the real host: a driver (the scale driver's "large0" node, in
/// `umem host`) allocates a cookie with ddi_umem_alloc(DDI_UMEM_SLEEP|DDI_UMEM_PAGEABLE) on an ioctl and exports
/// it whole from devmap(9E); this process maps it with the client library, writes one byte in every page, unmaps,
/// and has the driver free it. The baseline, in the same run: a child process creates one sealed memfd of that
/// size per request and passes it over a SEQPACKET socket (SCM_RIGHTS); this process maps it, touches every page,
/// unmaps and closes it. The fds and VMAs one mapping is made of are printed at setup.
/// </summary>
[MemoryDiagnoser]
public class HostLargeMapBenchmarks
{
    private string _dir = "";
    private ScaleHost? _host;
    private Process? _fdServer;
    private UmemDevice? _device;
    private SeqPacketChannel? _floor;
    private readonly byte[] _request = new byte[16];
    private readonly byte[] _reply = new byte[64];
    private readonly List<SafeFd> _fds = new(1);
    private long _size;

    /// <summary>Pages per cookie: 1 page, 1 MiB, 64 MiB, 1 GiB (4 KiB pages).</summary>
    [Params(1, 256, 16384, 262144)]
    public int Pages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _size = Pages * (long)SystemPage.Size;
        _dir = Directory.CreateTempSubdirectory("umem-bench-large-").FullName;
        _host = ScaleHost.Start(Path.Combine(_dir, "dev"), [], TimeSpan.FromMinutes(2));
        _fdServer = MapRequestBenchmarks.StartChild("fdserver", Path.Combine(_dir, "floor"));
        _device = UmemDevice.Open(Path.Combine(_dir, "dev", ScaleDriver.LargeIoctl.NodeName));
        _floor = SeqPacketChannel.Connect(Path.Combine(_dir, "floor"));
        _request[0] = 2; // a new memfd of the size in bytes 8-15
        BinaryPrimitives.WriteInt64LittleEndian(_request.AsSpan(8), _size);

        int slot = LargeDevice.Alloc(_device, _size, UmemFlags.Pageable);
        using (var m = _device.Map(LargeDevice.Offset(slot), _size))
        {
            var (fds, vmas) = MappingLayout.Count(m.Address, _size);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// {Pages} pages: {fds} fds and {vmas} VMAs per mapping (raw: 1 and 1)"));
        }
        LargeDevice.Free(_device, slot);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _device?.Dispose();
        _floor?.Dispose();
        if (_host is not null)
        {
            int exit = _host.Stop(TimeSpan.FromMinutes(1));
            if (exit != 0) Console.WriteLine($"// umem host exited {exit}: {_host.Describe()}");
            _host.Dispose();
        }
        if (_fdServer is not null)
        {
            if (!_fdServer.HasExited) _fdServer.Kill();
            _fdServer.WaitForExit();
            _fdServer.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>ioctl (ddi_umem_alloc) + MMAP (devmap, fds passed, mapped) + touch every page + munmap/MUNMAP + ioctl (ddi_umem_free).</summary>
    [Benchmark(Description = "host: alloc+map+touch+unmap+free")]
    public void ThroughHost()
    {
        int slot = LargeDevice.Alloc(_device!, _size, UmemFlags.Pageable);
        using (var m = _device!.Map(LargeDevice.Offset(slot), _size))
            AllocTouchFree.Touch(m.Address, _size);
        LargeDevice.Free(_device!, slot);
    }

    /// <summary>A new sealed memfd of the size from another process over SEQPACKET, mapped, touched, unmapped, closed.</summary>
    [Benchmark(Baseline = true, Description = "raw: memfd passed+map+touch+unmap+close")]
    public void RawMemfdPassed()
    {
        _floor!.Send(_request);
        _floor.Receive(_reply, _fds);
        using SafeFd fd = _fds[0];
        _fds.Clear();
        nint p = Interop.mmap(0, (nuint)_size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        if (p == Interop.MAP_FAILED) throw new ErrnoException(Interop.LastErrno, "mmap");
        AllocTouchFree.Touch(p, _size);
        if (Interop.munmap(p, (nuint)_size) < 0) throw new ErrnoException(Interop.LastErrno, "munmap");
    }
}
