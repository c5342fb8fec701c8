using System.Globalization;
using Umem.Bench.Large;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.Tests.Ddi;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// One 4 GiB pageable cookie through the real umemd (the scale driver's large0 node): allocated by the driver,
/// exported whole, mapped by a C# client process and a 64-bit C client process, touched at both ends and at unit
/// boundaries by each (a few pages: the memfds are sparse, nothing else is ever faulted in), the writes read back
/// by the driver through its kernel address, unmapped, freed, and the host's fds and memfd mappings back to where
/// they were.
/// </summary>
public sealed partial class CClientBuildTests
{
    private static readonly long Page = SystemPage.Size;

    [Fact]
    public void AFourGiBPageableCookieIsSharedWholeByACAndACSharpClient()
    {
        const long size = 4L << 30;
        long[] positions = [0, Page + 1, (64L << 20) - 1, 64L << 20, (2L << 30) + 12345, size - Page, size - 1];
        using var umemd = CliHost.Start([TestDriverPaths.Scale], ["--max-bytes", (5L << 30).ToString(CultureInfo.InvariantCulture)], null, "large0");
        string node = umemd.NodePath("large0");
        using var control = UmemDevice.Open(node); // the driver's side, through its ioctls
        LargeDevice.Free(control, LargeDevice.Alloc(control, Page, UmemFlags.Pageable)); // every path of the host warmed up
        var before = HostMemory.Of(umemd.Pid);

        Assert.Equal(Errno.None, LargeDevice.TryAlloc(control, size, UmemFlags.Pageable, out int slot, out long grant));
        Assert.Equal(size / 64, grant); // 64 memfds of 64 MiB
        Assert.Equal(before.Memfds + 64, HostMemory.Of(umemd.Pid).Memfds);
        string off = Str(LargeDevice.Offset(slot));
        foreach (long p in positions) LargeDevice.Write(control, slot, p, 0xD0);

        using (var cs = ChildProcess.StartTestApp(null, "client"))
        {
            cs.Ok($"open {node}");
            Assert.Equal("0", cs.Ok($"map {off} {Str(size)} rw"));
            Assert.Equal("64 64", cs.Ok("layout 0")); // fds received, VMAs: one per grant unit
            foreach (long p in positions)
            {
                Assert.Equal("208", cs.Ok($"get 0 {Str(p)}")); // the driver's 0xD0
                cs.Ok($"fill 0 {Str(p)} 1 17");
            }
            foreach (long p in positions) Assert.Equal(17, LargeDevice.Read(control, slot, p));

            var c = Runner.For("64").Run("test_touch", [node, off, Str(size), "99", .. positions.Select(Str)]);
            AssertTap(c, minimumPassed: 10);
            Assert.Contains("# mapping: 64 VMAs, 64 memfds\n", c.Stdout, StringComparison.Ordinal);
            foreach (long p in positions) Assert.Contains($"seen {Str(p)} 17\n", c.Stdout, StringComparison.Ordinal); // the C# client's writes
            foreach (long p in positions) Assert.Equal(99, LargeDevice.Read(control, slot, p));
            Assert.Equal("99", cs.Ok($"get 0 {Str(size - 1)}")); // and the C client's, seen by the C# one
            cs.Ok("dispose 0");
            Assert.Equal("bye", cs.Command("quit"));
        }
        LargeDevice.Free(control, slot);
        HostMemory.WaitUntilBack(umemd.Pid, before);
        control.Dispose();
        Assert.Equal(0, umemd.Stop());
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
