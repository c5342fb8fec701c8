using Umem.Host;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>
/// The per-uid limits across connections (issue 12): nobody's clients, each its own process and connection, share
/// one uid's opens, mappings and registered bytes; over the limit the request gets the per-connection limit's errno,
/// root is never refused, and what a client held comes back on close, munmap, unregister and kill -9.
/// </summary>
public sealed class UidLimitTests
{
    private const uint Nobody = 65534;
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task OpensAreCountedPerUidAcrossConnections()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { MaxOpensPerUid = 2 });
        using var a = ChildProcess.StartTestApp(Nobody, "client");
        using var b = ChildProcess.StartTestApp(Nobody, "client");
        using var c = ChildProcess.StartTestApp(Nobody, "client");
        a.Ok($"open {host.Path} r");
        b.Ok($"open {host.Path} r");
        Assert.StartsWith("err EMFILE", c.Command($"open {host.Path} r"), StringComparison.Ordinal);
        Assert.Equal(2, host.Host.HeldByUid(Nobody, UidHolding.Opens));
        using var root = ChildProcess.StartTestApp(null, "client"); // root is counted, never refused
        root.Ok($"open {host.Path}");

        b.Ok("close"); // CLOSE gives the open back
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.Opens) == 1, "b's open given back");
        c.Ok($"open {host.Path} r");
        a.Kill(); // kill -9 gives it back too
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.Opens) == 1, "the killed client's open given back");
        using var d = ChildProcess.StartTestApp(Nobody, "client");
        d.Ok($"open {host.Path} r");
        Assert.Equal(2, host.Host.HeldByUid(Nobody, UidHolding.Opens));
    }

    [Fact]
    public async Task MappingsAreCountedPerUidAcrossConnections()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { MaxMappingsPerUid = 3 });
        using var a = ChildProcess.StartTestApp(Nobody, "client");
        using var b = ChildProcess.StartTestApp(Nobody, "client");
        a.Ok($"open {host.Path}");
        b.Ok($"open {host.Path}");
        a.Ok($"map 0 {Page} rw");
        a.Ok($"map {Page} {Page} rw");
        b.Ok($"map 0 {Page} rw");
        int mappings = host.LiveMappings;
        Assert.StartsWith("err ENOMEM", b.Command($"map {Page} {Page} rw"), StringComparison.Ordinal);
        Assert.Equal(mappings, host.LiveMappings); // refused before the driver was asked
        Assert.Equal(3, host.Host.HeldByUid(Nobody, UidHolding.Mappings));

        a.Ok("dispose 0"); // MUNMAP of the whole mapping gives it back
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.Mappings) == 2, "a's munmap given back");
        b.Ok($"map {Page} {Page} rw");
        a.Kill();
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.Mappings) == 2, "the killed client's mapping given back");
        b.Ok($"map 0 {Page} r");
        Assert.Equal(3, host.Host.HeldByUid(Nobody, UidHolding.Mappings));
    }

    [Fact]
    public async Task RegisteredBytesAreCountedPerUidAcrossConnections()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { MaxRegisteredBytesPerUid = 4L * Page });
        using var a = ChildProcess.StartTestApp(Nobody, "client");
        using var b = ChildProcess.StartTestApp(Nobody, "client");
        a.Ok($"open {host.Path}");
        b.Ok($"open {host.Path}");
        a.Ok($"register {3 * Page}");
        Assert.StartsWith("err ENOMEM", b.Command($"register {2 * Page}"), StringComparison.Ordinal);
        Assert.Equal(1, host.LiveBuffers);
        b.Ok($"register {Page}");
        Assert.Equal(4L * Page, host.Host.HeldByUid(Nobody, UidHolding.RegisteredBytes));
        a.Kill();
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.RegisteredBytes) == Page, "the killed client's buffer given back");
        b.Ok($"register {3 * Page}");
        b.Ok("close"); // the device goes, the buffers hold the connection: nothing is given back yet
        Assert.Equal(4L * Page, host.Host.HeldByUid(Nobody, UidHolding.RegisteredBytes));
        b.CloseInput();
        Assert.Equal(0, b.WaitForExit());
        Eventually.WaitUntil(() => host.Host.HeldByUid(Nobody, UidHolding.RegisteredBytes) == 0, "everything given back at exit");
    }
}
