using System.Buffers.Binary;
using System.Diagnostics;
using Umem.Client;
using Umem.Platform;
using Umem.Tests.Ddi;

namespace Umem.Tests.Samples;

/// <summary>
/// The lockmem driver and the LockDemo sample through the real path: the sample registers a buffer in its own
/// process and the driver locks it with ddi_umem_lock(9F), charged to the sample's project.
/// </summary>
public sealed class LockDemoTests(ITestOutputHelper output)
{
    private const long Length = 256 << 10;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LockingChargesTheProjectWhileLocked(bool longTerm)
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        string[] args = longTerm ? ["--length", $"{Length}", "--longterm"] : ["--length", $"{Length}"];
        using var demo = SampleSystem.Run("Umem.Samples.LockDemo", [umem.System.NodePath("lockmem0"), .. args]);
        var lines = demo.ReadToEnd();
        Assert.Equal(0, demo.WaitForExit());
        Assert.Equal(0, Usage(lines, "registered"));
        Assert.Equal(Length, Usage(lines, "locked"));
        Assert.Equal(0, Usage(lines, "unlocked"));
        Assert.Equal(SampleSystem.LockedMemoryLimit, Report.ULong(lines[0], "limit"));
        Assert.All(umem.System.ResourceControls.ProjectEntities, p => Assert.Equal(0ul, p.LockedMemory.Usage));
    }

    [Fact]
    public async Task OverlappingLocksAreChargedEachInFull()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        using var demo = SampleSystem.Run("Umem.Samples.LockDemo", umem.System.NodePath("lockmem0"), "--length", $"{Length}", "--locks", "3");
        var lines = demo.ReadToEnd();
        Assert.Equal(0, demo.WaitForExit());
        // The imprecise full price model: three locks of the same pages cost three times their length.
        Assert.Equal(3 * Length, Usage(lines, "locked"));
        Assert.Equal(0, Usage(lines, "unlocked"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AKilledClientsLocksAreReleased(bool longTerm)
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        var system = umem.System;
        string[] args = longTerm ? ["--length", $"{Length}", "--locks", "2", "--longterm", "--hold"] : ["--length", $"{Length}", "--locks", "2", "--hold"];
        using var demo = SampleSystem.Run("Umem.Samples.LockDemo", [system.NodePath("lockmem0"), .. args]);
        Assert.Equal(2 * Length, Report.Long(demo.ReadUntil("stage=locked"), "usage"));
        demo.ReadUntil("holding");

        // The host sees the lock: the project is charged, the node is open, the client is connected.
        Assert.Equal((ulong)(2 * Length), ProjectUsage());
        var node = system.Kernel.FindNode("lockmem0")!;
        Assert.Equal(1, node.OpenFiles);
        Assert.Contains(system.Devices.Sessions, s => s.Cred.Pid == demo.Pid);

        int pid = demo.Pid;
        var clock = Stopwatch.StartNew();
        demo.Kill();   // SIGKILL: the application never unlocks
        // How soon is reported, not asserted (2 CPUs shared with builds); the guard only catches a release that never comes.
        Eventually.WaitUntil(() => ProjectUsage() == 0 && ZoneUsage() == 0 && node.OpenFiles == 0
            && !system.Devices.Sessions.Any(s => s.Cred.Pid == pid), $"the project and zone uncharged, the node closed and the session of pid {pid} gone after SIGKILL");
        output.WriteLine($"released after {clock.Elapsed.TotalMilliseconds:F0} ms");

        ulong ProjectUsage() => system.ResourceControls.ProjectEntities.Aggregate(0ul, (sum, p) => sum + p.LockedMemory.Usage);
        ulong ZoneUsage() => system.ResourceControls.ZoneEntities.Aggregate(0ul, (sum, z) => sum + z.LockedMemory.Usage);
    }

    private static long Usage(List<string> lines, string stage) =>
        Report.Long(Assert.Single(lines, l => l.StartsWith($"stage={stage} ", StringComparison.Ordinal)), "usage");
}

/// <summary>The lockmem driver's answers to bad requests, from this test process as the application.</summary>
public sealed class LockmemBadInputTests
{
    private const uint Lock = ('L' << 8) | 1;
    private const uint Unlock = ('L' << 8) | 2;
    private const uint Usage = ('L' << 8) | 3;

    [Fact]
    public async Task BadRequestsGetTheirErrnoAndChargeNothing()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        using var device = UmemDevice.Open(umem.System.NodePath("lockmem0"));
        using var buffer = device.RegisterBuffer(4 * SystemPage.Size);
        long page = SystemPage.Size;

        Assert.Equal(Errno.EFAULT, Refused(Lock, new byte[12], []));                                 // short argument
        Assert.Equal(Errno.EFAULT, Refused(Lock, LockArgs((ulong)buffer.Address + (ulong)(4 * page), page, 3), [])); // not registered
        Assert.Equal(Errno.EINVAL, Refused(Lock, LockArgs((ulong)buffer.Address + 1, page, 3), []));     // misaligned
        Assert.Equal(Errno.EINVAL, Refused(Lock, LockArgs((ulong)buffer.Address, page, 0x10), []));      // unknown flag
        Assert.Equal(Errno.EINVAL, Refused(Unlock, [7, 0, 0, 0], []));                                   // no such lock
        Assert.Equal(Errno.EFAULT, Refused(Usage, [], new byte[8]));                                     // no room for the answer
        Assert.Equal(Errno.ENOTTY, Refused(0x1234, [], []));                                             // unknown command

        // A good lock after all that: index 0, charged; unlocking it twice is refused the second time.
        Assert.Equal(0, device.Ioctl(Lock, LockArgs((ulong)buffer.Address, 2 * page, 3), []).Rval);
        Assert.Equal((ulong)(2 * page), ProjectUsage());
        device.Ioctl(Unlock, [0, 0, 0, 0], []);
        Assert.Equal(Errno.EINVAL, Refused(Unlock, [0, 0, 0, 0], []));
        Assert.Equal(0ul, ProjectUsage());

        Errno Refused(uint cmd, byte[] input, byte[] output) =>
            Assert.Throws<ErrnoException>(() => device.Ioctl(cmd, input, output)).Errno;

        ulong ProjectUsage() => umem.System.ResourceControls.ProjectEntities.Aggregate(0ul, (sum, p) => sum + p.LockedMemory.Usage);
    }

    private static byte[] LockArgs(ulong address, long length, uint flags)
    {
        var a = new byte[20];
        BinaryPrimitives.WriteUInt64LittleEndian(a, address);
        BinaryPrimitives.WriteUInt64LittleEndian(a.AsSpan(8), (ulong)length);
        BinaryPrimitives.WriteUInt32LittleEndian(a.AsSpan(16), flags);
        return a;
    }
}
