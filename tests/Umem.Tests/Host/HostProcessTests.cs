using System.Buffers.Binary;
using Umem.Client;
using Umem.Platform;
using Umem.TestDrivers;

namespace Umem.Tests.Host;

/// <summary>umemd as its own process: the generic-host wrapper's lifecycle, and the allocation-free request path.</summary>
public sealed class HostProcessTests(ITestOutputHelper output)
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public void SigtermStopsTheHostedServiceGracefully()
    {
        string dir = TestHost.NewDirectory();
        try
        {
            using var host = ChildProcess.StartTestApp(null, "serve", dir);
            string path = host.ReadUntil("ready").Split(' ')[2];
            Assert.True(File.Exists(path));
            using var c = ChildProcess.StartTestApp(null, "client");
            c.Ok($"open {path}");
            c.Ok($"map 0 {Page} rw");
            c.Ok("fill 0 0 4 3");
            host.Signal("TERM");
            Assert.Equal("stopped", host.ReadUntil("stopped"));
            Assert.Equal(0, host.WaitForExit());
            Assert.False(File.Exists(path)); // the node's socket is removed
            Assert.Equal("3", c.Ok("get 0 3"));
            Assert.Matches("^err (ECONNRESET|EPIPE) ", c.Command("ioctl 1 01 4"));
            Assert.Contains("umemd: serving nodes in", host.StandardError, StringComparison.Ordinal);
            Assert.Contains("trust model", host.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The allocation gate, on the path users run (a real kernel and DDI driver in a host process): an IOCTL
    /// allocates nothing; a map request allocates only the kernel's own record of the mapping, as illumos
    /// allocates a segment and its devmap handles (see docs/design.md, "What a request costs").
    /// </summary>
    [Fact]
    public void TheHostAllocatesOnlyTheMappingsOwnRecords()
    {
        string dir = TestHost.NewDirectory();
        try
        {
            using var host = ChildProcess.StartTestApp(null, "host", dir, "noevents");
            string path = host.ReadUntil("ready").Split(' ')[2];
            using var device = UmemDevice.Open(path);
            var stats = new byte[32];
            var echo = new byte[1];
            long Allocated()
            {
                device.Ioctl(TestDeviceDriver.IoctlStats, [], stats);
                return BinaryPrimitives.ReadInt64LittleEndian(stats.AsSpan(24));
            }
            long Measure(int n, Action round)
            {
                long before = Allocated();
                for (int i = 0; i < n; i++) round();
                return Allocated() - before;
            }
            void MapRound()
            {
                using var m = device.Map(0, Page);
                m.Span[0]++;
            }
            void IoctlRound() => device.Ioctl(TestDeviceDriver.IoctlEcho, [1], echo);
            Measure(500, MapRound); // warm up: pools, dictionaries, JIT
            Measure(500, IoctlRound);
            const int N = 10000;
            double perIoctl = Measure(N, IoctlRound) / (double)N;
            double perMap = Measure(N, MapRound) / (double)N;
            output.WriteLine($"host allocated {perIoctl:F3} bytes per IOCTL and {perMap:F1} bytes per MMAP+MUNMAP ({N} each)");
            // One object would be at least 24 bytes: the IOCTL path allocates none (what the process-wide counter
            // sometimes shows is the runtime's own background work, a few KB over the whole window).
            Assert.True(perIoctl < 2, $"{perIoctl:F3} bytes per IOCTL");
            // A mapping's records: DeviceMapping and its handle list, a DevmapHandle per region, the request's MapTarget,
            // and the export of its segments (935 B measured for one page; 1,184 B before issue 13 took the mapping's
            // lock, state-machine object, closure, cookie hold and table node out).
            Assert.True(perMap < 1100, $"{perMap:F1} bytes per MMAP+MUNMAP");
            host.CloseInput();
            Assert.Equal(0, host.WaitForExit());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
