using System.Globalization;
using Umem.Bench.Large;
using Umem.Bench.ScaleDriver;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.Tests.Ddi;
using Umem.Tests.Host;

namespace Umem.Tests.Attacks;

/// <summary>
/// Page-granular isolation inside one cookie, in the real umemd: the scale driver's large0 node exports one page of a
/// 1 MiB cookie to each uid (page uid % 256, as the seed's xx gives 64- and 32-bit processes different pages), and
/// processes of neighbouring uids, nobody among them, each reach only their own page: the fd each receives ends at
/// its page, no request reaches another, and what each writes shows in its page alone.
/// </summary>
public sealed class PieceIsolationTests
{
    private static readonly long Page = SystemPage.Size;
    private const uint Nobody = 65534, Neighbour = 65533;

    [Fact]
    public void ClientsOfPageSizedPiecesOfOneCookieReachOnlyTheirOwnPage()
    {
        using var umemd = CliHost.Start([TestDriverPaths.Scale], "large0");
        string node = umemd.NodePath("large0");
        using var control = UmemDevice.Open(node);
        int slot = LargeDevice.Alloc(control, 1L << 20, UmemFlags.Pageable, grantPages: 1, pieces: true);
        string off = Str(LargeDevice.Offset(slot));
        long nobodyPage = LargeIoctl.Piece(Nobody, 256), neighbourPage = LargeIoctl.Piece(Neighbour, 256);
        Assert.Equal(1, nobodyPage - neighbourPage); // next to each other in the cookie

        using var nobody = ChildProcess.StartTestApp(Nobody, "client");
        using var neighbour = ChildProcess.StartTestApp(Neighbour, "client");
        foreach (var (client, value) in new[] { (nobody, 0xA1), (neighbour, 0xB2) })
        {
            client.Ok($"open {node}");
            Assert.Equal("0", client.Ok($"map {off} {Str(Page)} rw"));
            Assert.Equal("1 1", client.Ok("layout 0")); // one fd, one VMA: the page
            client.Ok($"fill 0 0 {Str(Page)} {value}");
        }

        // Every other request is refused by the driver: more than its page, or another offset.
        Assert.StartsWith("err ENXIO", nobody.Command($"map {off} {Str(2 * Page)} rw"), StringComparison.Ordinal);
        Assert.StartsWith("err ENXIO", nobody.Command($"map {Str(LargeDevice.Offset(slot) + Page)} {Str(Page)} rw"), StringComparison.Ordinal);

        // The fd nobody receives (raw, no client library) is its page and nothing more.
        using (var raw = ChildProcess.StartTestApp(Nobody, "grant", node, off, Str(Page)))
        {
            Assert.Equal("mmap OK", raw.ReadLine());
            Assert.Equal($"fd 0 size {Page}", raw.ReadLine());
            Assert.Equal("fd 0 beyond 0", raw.ReadLine()); // a read past it finds nothing
            Assert.Equal("done", raw.ReadLine());
            Assert.Equal(0, raw.WaitForExit());
        }

        // The driver sees each write in the writer's page alone; the clients see their own pages only.
        for (long p = 0; p < 256; p++)
        {
            int expected = p == nobodyPage ? 0xA1 : p == neighbourPage ? 0xB2 : 0;
            Assert.Equal(expected, LargeDevice.Read(control, slot, p * Page));
            Assert.Equal(expected, LargeDevice.Read(control, slot, (p * Page) + Page - 1));
        }
        Assert.Equal("-1", nobody.Ok($"find 0 0 {Str(Page)} 161"));
        Assert.Equal("-1", neighbour.Ok($"find 0 0 {Str(Page)} 178"));

        // Pieces smaller than the cookie's grant unit are refused, never widened: in the default units (4 pages for
        // 1 MiB) nobody's page cannot be exported alone (devmap_setup's ENXIO for the driver's failed devmap(9E)).
        int coarse = LargeDevice.Alloc(control, 1L << 20, UmemFlags.Pageable, pieces: true);
        Assert.StartsWith("err ENXIO", nobody.Command($"map {Str(LargeDevice.Offset(coarse))} {Str(Page)} rw"), StringComparison.Ordinal);
        Assert.Equal("1 1", nobody.Ok("layout 0")); // it holds its one page still, nothing more

        foreach (var client in new[] { nobody, neighbour }) Assert.Equal("bye", client.Command("quit"));
        LargeDevice.Free(control, coarse);
        LargeDevice.Free(control, slot);
        control.Dispose();
        Assert.Equal(0, umemd.Stop());
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
