using Umem.Bench.Large;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.Tests.Ddi;
using Umem.Tests.Host;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Attacks;

/// <summary>
/// The host's fd and mapping limits hit on purpose by a driver's allocations in the real umemd (the scale driver's
/// large0 node): the budget's MaxMappings (`--max-mappings`), checked before the OS is asked, and the OS's own
/// RLIMIT_NOFILE (`prlimit`, with the budget set above it), where memfd_create fails midway and the allocation rolls
/// back. Each time a clean errno, and the host up and serving the next client after. (The client side of the fd
/// limit: Client/FdLimitTests and CClient/CClientFdLimitTests.)
/// </summary>
public sealed class HostLimitTests
{
    private static readonly long Page = SystemPage.Size;
    private const long MiB = 1L << 20;

    [Fact]
    public void TheMappingBudgetRefusesBeforeTheOsAndTheHostServesTheNextClient()
    {
        using var umemd = CliHost.Start([TestDriverPaths.Scale], ["--max-mappings", "100"], null, "large0");
        string node = umemd.NodePath("large0");
        var before = HostMemory.Of(umemd.Pid);
        using var driver = UmemDevice.Open(node);
        int held = LargeDevice.Alloc(driver, MiB, UmemFlags.Pageable); // 64 memfds of 16 KiB
        Assert.Equal(Errno.ENOMEM, LargeDevice.TryAlloc(driver, MiB, UmemFlags.Pageable | UmemFlags.NoSleep, out _, out _)); // 128 > 100: NULL
        // 256 page units can never fit 100 mappings: even DDI_UMEM_SLEEP fails at once.
        Assert.Equal(Errno.ENOMEM, Await(Task.Run(() => LargeDevice.TryAlloc(driver, MiB, UmemFlags.Pageable, out _, out _, grantPages: 1))));
        Assert.Equal(before.Memfds + 64, HostMemory.Of(umemd.Pid).Memfds); // the OS was never asked for the refused ones

        int small = LargeDevice.Alloc(driver, 16 * Page, UmemFlags.Pageable | UmemFlags.NoSleep); // 80 of 100: fits
        ServesAClient(node, driver, held);
        LargeDevice.Free(driver, small);
        LargeDevice.Free(driver, held);
        driver.Dispose();
        Assert.Equal(0, umemd.Stop()); // its driver detached with every cookie freed (the cache keeps unexported ones until then)
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void TheOsFileLimitFailsAnAllocationMidwayCleanlyAndTheHostServesTheNextClient()
    {
        // RLIMIT_NOFILE 512 for the whole host, the budget's MaxFds far above it: the OS refuses first.
        using var umemd = CliHost.Start([TestDriverPaths.Scale], ["--max-fds", "100000"], "512:512", "large0");
        string node = umemd.NodePath("large0");
        var before = HostMemory.Of(umemd.Pid);
        using var driver = UmemDevice.Open(node);

        // 1,024 memfds are more than RLIMIT_NOFILE allows in all: DDI_UMEM_SLEEP fails at once, naming EMFILE.
        Assert.Equal(Errno.EMFILE, Await(Task.Run(() => LargeDevice.TryAlloc(driver, 4 * MiB, UmemFlags.Pageable, out _, out _, grantPages: 1))));

        // Cookies of 64 memfds until memfd_create fails midway: DDI_UMEM_NOSLEEP gets NULL, nothing is left behind.
        var slots = new List<int>();
        Errno refused;
        while ((refused = LargeDevice.TryAlloc(driver, MiB, UmemFlags.Pageable | UmemFlags.NoSleep, out int slot, out _)) == Errno.None)
            slots.Add(slot);
        Assert.Equal(Errno.ENOMEM, refused);
        Assert.InRange(slots.Count, 1, 7); // (512 - the runtime's fds) / 64
        Assert.Equal(before.Memfds + (64 * slots.Count), HostMemory.Of(umemd.Pid).Memfds); // rolled back

        LargeDevice.Free(driver, slots[^1]); // room for the next client's connection and a small cookie
        slots.RemoveAt(slots.Count - 1);
        int small = LargeDevice.Alloc(driver, 4 * Page, UmemFlags.Pageable | UmemFlags.NoSleep);
        ServesAClient(node, driver, small);
        foreach (int s in slots) LargeDevice.Free(driver, s);
        LargeDevice.Free(driver, small);
        driver.Dispose();
        Assert.Equal(0, umemd.Stop()); // its driver detached with every cookie freed (the cache keeps unexported ones until then)
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A new client process maps the slot whole, writes its last byte, and the driver reads it.</summary>
    private static void ServesAClient(string node, UmemDevice driver, int slot)
    {
        using var client = ChildProcess.StartTestApp(null, "client");
        client.Ok($"open {node}");
        long length = 4 * Page;
        Assert.Equal("0", client.Ok($"map {LargeDevice.Offset(slot)} {length} rw"));
        client.Ok($"fill 0 {length - 1} 1 77");
        Assert.Equal(77, LargeDevice.Read(driver, slot, length - 1));
        Assert.Equal("bye", client.Command("quit"));
    }
}
