using Umem.Bench.Large;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.Tests.Ddi;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Host;

/// <summary>
/// Large requests a driver makes in the real umemd (the scale driver's large0 node, `umem host` in a child process)
/// that the budget must refuse: cleanly, with the errno ddi_umem_alloc(9F)'s flag calls for, and with the host
/// serving the next client after.
/// </summary>
public sealed class LargeCookieTests
{
    private static readonly long Page = SystemPage.Size;

    /// <summary>
    /// 1 GiB locked against the default budget (1 GiB in all, 256 MiB locked): DDI_UMEM_NOSLEEP gets NULL (the
    /// driver's ENOMEM); DDI_UMEM_SLEEP, larger than the whole locked budget, fails at once with ENOMEM instead of
    /// waiting for memory that can never come.
    /// </summary>
    [Fact]
    public void AOneGiBLockedCookieIsRefusedByTheBudgetAndTheHostServesTheNextClient()
    {
        using var umemd = CliHost.Start([TestDriverPaths.Scale], "large0");
        string node = umemd.NodePath("large0");
        var before = HostMemory.Of(umemd.Pid);
        using (var first = UmemDevice.Open(node))
        {
            Assert.Equal(Errno.ENOMEM, LargeDevice.TryAlloc(first, 1L << 30, UmemFlags.NoSleep, out _, out _));
            // On a task with a guard: a SLEEP that waited would hang here, not fail.
            Assert.Equal(Errno.ENOMEM, Await(Task.Run(() => LargeDevice.TryAlloc(first, 1L << 30, UmemFlags.Sleep, out _, out _))));
            Assert.Equal(Errno.ENOMEM, Await(Task.Run(() => LargeDevice.TryAlloc(first, (256L << 20) + Page, UmemFlags.Sleep, out _, out _))));
            Assert.Equal(before.Memfds, HostMemory.Of(umemd.Pid).Memfds); // the OS was never asked
        }

        // The next client: locked memory within the budget, mapped, written, read back by the driver.
        using var next = UmemDevice.Open(node);
        int slot = LargeDevice.Alloc(next, 256L << 20, UmemFlags.NoSleep); // the whole locked budget
        using (var m = next.Map(LargeDevice.Offset(slot), 256L << 20))
        {
            m.GetSpan((256L << 20) - 1, 1)[0] = 42;
            Assert.Equal(42, LargeDevice.Read(next, slot, (256L << 20) - 1));
        }
        LargeDevice.Free(next, slot);
        next.Dispose();
        HostMemory.WaitUntilBack(umemd.Pid, before);
        Assert.Equal(0, umemd.Stop());
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }
}
