using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Umem.Client;
using Umem.Platform;

namespace Umem.Bench;

/// <summary>
/// Issue 5, map requests. The device host runs in a child process (TestApp "host", the test device); the client
/// side is this process, over a real socket. Beside it, in the same run: the same map done on a local memfd (no
/// second process at all), and the floor: a bare SEQPACKET round trip to a child that answers with one memfd,
/// which is mapped, touched and unmapped. Every mapping is touched once (one page fault). A map through the host
/// is two messages (MMAP, then MUNMAP, whose reply the client reads before its next one); the IOCTL pair shows the
/// cost of one request against one bare round trip.
/// </summary>
[MemoryDiagnoser]
public class MapRequestBenchmarks
{
    private string _dir = "";
    private Process? _host;
    private Process? _fdServer;
    private Process? _spinningFdServer;
    private UmemDevice? _device;
    private SeqPacketChannel? _floor;
    private SeqPacketChannel? _spinningFloor;
    private SafeFd? _localMemfd;
    private readonly byte[] _request = new byte[16];
    private readonly byte[] _plainRequest = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private readonly byte[] _ioctlOutput = new byte[8];
    private readonly byte[] _reply = new byte[64];
    private readonly List<SafeFd> _fds = new(1);
    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("umem-bench-").FullName;
        _host = StartChild("host", _dir, "noevents");
        _path = Path.Combine(_dir, "test0");
        _fdServer = StartChild("fdserver", Path.Combine(_dir, "floor"));
        _device = UmemDevice.Open(_path);
        _floor = SeqPacketChannel.Connect(Path.Combine(_dir, "floor"));
        // The host polls 50 µs (DeviceHostOptions.LingerSpin) before it sleeps; so does this floor.
        _spinningFdServer = StartChild("fdserver", Path.Combine(_dir, "floor-spin"), "50");
        _spinningFloor = SeqPacketChannel.Connect(Path.Combine(_dir, "floor-spin"));
        _localMemfd = MemFd.CreateSealed("bench-local", SystemPage.Size);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _device?.Dispose();
        _floor?.Dispose();
        _spinningFloor?.Dispose();
        _localMemfd?.Dispose();
        foreach (var p in new[] { _host, _fdServer, _spinningFdServer })
        {
            if (p is null) continue;
            if (!p.HasExited) p.Kill();
            p.WaitForExit();
            p.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>connect + HELLO + OPEN + CLOSE + close: opening a node and closing it.</summary>
    [Benchmark]
    public void OpenClose()
    {
        using var d = UmemDevice.Open(_path);
    }

    /// <summary>MMAP of one page through the host (devmap, fd passed, mapped MAP_FIXED), a touch, and MUNMAP.</summary>
    [Benchmark]
    public void MapUnmapThroughHost()
    {
        using var m = _device!.Map(0, SystemPage.Size);
        m.Span[0]++;
    }

    /// <summary>The same page mapped from a memfd this process already holds: no other process involved.</summary>
    [Benchmark]
    public unsafe void MapUnmapLocalMemfd()
    {
        nint p = Interop.mmap(0, (nuint)SystemPage.Size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, _localMemfd!, 0);
        (*(byte*)p)++;
        _ = Interop.munmap(p, (nuint)SystemPage.Size);
    }

    /// <summary>The floor: a 16-byte SEQPACKET round trip answered with one memfd, which is mapped, touched, unmapped and closed.</summary>
    [Benchmark(Baseline = true)]
    public void BareRoundTripWithFd() => RoundTripWithFd(_floor!);

    private unsafe void RoundTripWithFd(SeqPacketChannel floor)
    {
        floor.Send(_request);
        floor.Receive(_reply, _fds);
        var fd = _fds[0];
        _fds.Clear();
        nint p = Interop.mmap(0, (nuint)SystemPage.Size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        (*(byte*)p)++;
        _ = Interop.munmap(p, (nuint)SystemPage.Size);
        fd.Dispose();
    }

    /// <summary>The same floor against a server that polls 50 µs before it sleeps, as the host does.</summary>
    [Benchmark]
    public void BareRoundTripWithFdSpinningServer() => RoundTripWithFd(_spinningFloor!);

    /// <summary>
    /// TestDeviceDriver.IoctlEcho of tests/Umem.TestDrivers, the driver of the TestApp host. The bench starts that
    /// host by path and does not reference test projects; were the number to change, the echo would fail (EINVAL), not mismeasure.
    /// </summary>
    private const int TestDeviceIoctlEcho = 1;

    /// <summary>One request with no memory through the host: an IOCTL echo of one byte.</summary>
    [Benchmark]
    public void IoctlThroughHost() => _device!.Ioctl(TestDeviceIoctlEcho, _plainRequest.AsSpan(0, 1), _ioctlOutput);

    /// <summary>Its floor: a bare 16-byte SEQPACKET round trip.</summary>
    [Benchmark]
    public void BareRoundTrip()
    {
        _floor!.Send(_plainRequest);
        _floor.Receive(_reply, null);
    }

    /// <summary>
    /// Starts TestApp in a child process (by path, see <see cref="Scale.ScalePaths.TestApp"/>), with a runtimeconfig
    /// written for the runtime running this process, so that the host runs on the same runtime as the client.
    /// </summary>
    internal static Process StartChild(params string[] args)
    {
        string app = Scale.ScalePaths.TestApp;
        string config = Path.Combine(Path.GetTempPath(), "umem-bench-testapp.runtimeconfig.json");
        File.WriteAllText(config, "{\"runtimeOptions\":{\"tfm\":\"net10.0\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\""
            + Environment.Version + "\"}}}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", "--runtimeconfig", config, app }.Concat(args)) psi.ArgumentList.Add(a);
        if (Environment.GetEnvironmentVariable("UMEM_BENCH_INLINE") == "1") psi.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        var p = Process.Start(psi)!;
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("ready", StringComparison.Ordinal))
        {
        }
        return line is null ? throw new InvalidOperationException($"TestApp {string.Join(' ', args)} did not start") : p;
    }
}
