using Umem.Kernel.Locking;
using Umem.Platform;
using Umem.Tests.Host;

namespace Umem.Tests.Locking;

/// <summary>
/// Without an administrator's project entry, the host locks for a client no more than the client's own
/// RLIMIT_MEMLOCK; a project.max-locked-memory entry replaces that bound, as on illumos.
/// </summary>
public sealed class LockLimitTests
{
    private static readonly long P = SystemPage.Size;

    [Fact]
    public async Task AClientLocksThroughTheHostNoMoreThanItsOwnRlimitMemlock()
    {
        await using var host = TestHost.Start();
        // Two pages of RLIMIT_MEMLOCK: the driver may lock two pages of its memory at once, not three.
        using var c = ChildProcess.Start("prlimit", [$"--memlock={2 * P}:{2 * P}", "--", ChildProcess.DotNet, ChildProcess.TestAppPath, "client"]);
        c.Ok($"open {host.Path}");
        c.Ok($"register {4 * P}");
        c.Ok($"bdrvfill 0 0 {2 * P} 7");
        Assert.Equal("7", c.Ok($"bget 0 {P}"));
        Assert.StartsWith("err ENOMEM", c.Command($"bdrvfill 0 0 {3 * P} 8"), StringComparison.Ordinal);
        Assert.Equal("0", c.Ok($"bget 0 {2 * P}")); // nothing was written
        c.Ok($"bdrvfill 0 {2 * P} {2 * P} 9"); // the first lock was undone: the budget is whole again
    }

    [Fact]
    public void AProjectEntryReplacesTheProcessBound()
    {
        using var limited = new LockTestContext(projects: "default:3::::\nuser.root:1::::\n");
        using var bounded = new UmemProcess(limited.Registry, limited.Process.Cred) { LockedMemoryLimit = P };
        var buffer = bounded.AllocateBuffer(4 * P);
        Assert.Equal(Errno.ENOMEM, UmemLock.TryLock(bounded, buffer.UserAddress, 2 * P, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.None, UmemLock.TryLock(bounded, buffer.UserAddress, P, UmemLockFlags.Read, out var one));
        UmemLock.Unlock(one!);

        // An administrator's entry for the project (1 GiB) governs instead: more than the process's own bound is fine.
        using var granted = new LockTestContext();
        using var process = new UmemProcess(granted.Registry, granted.Process.Cred) { LockedMemoryLimit = P };
        var big = process.AllocateBuffer(4 * P);
        Assert.Equal(Errno.None, UmemLock.TryLock(process, big.UserAddress, 4 * P, UmemLockFlags.Read, out var all));
        UmemLock.Unlock(all!);
    }
}

/// <summary>What the host holds for a registered buffer does not grow with its size.</summary>
public sealed class RegisteredBufferCostTests
{
    [Fact]
    public void AHugeSparseBufferCostsTheHostNoPerPageMemory()
    {
        using var ctx = new LockTestContext();
        const long Size = 64L << 30; // 64 GiB, sparse: nothing is resident
        using var memfd = MemFd.CreateSealed("umem-huge", Size);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var buffer = ctx.Process.RegisterBuffer(0x7f00_0000_0000, Size, memfd);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 16 Mi pages: one int per page would be 64 MiB; the record is a few objects.
        Assert.True(allocated < 64 * 1024, $"registering 64 GiB allocated {allocated} bytes");
        Assert.Equal(Errno.None, UmemLock.TryLock(ctx.Process, buffer.UserAddress + (ulong)(Size - SystemPage.Size), SystemPage.Size, UmemLockFlags.Write, out var last));
        Assert.Equal(SystemPage.Size, buffer.LockedBytes);
        UmemLock.Unlock(last!);
        ctx.Process.UnregisterBuffer(buffer.Id);
        Assert.False(buffer.IsRegistered);
    }
}
