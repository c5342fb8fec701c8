using Umem.Client;
using Umem.Platform;
using Umem.Protocol;
using Umem.Tests.Host;

namespace Umem.Tests.Client;

/// <summary>
/// The C# client under a low RLIMIT_NOFILE (a child process under prlimit(1), against a host in this process whose
/// device has 2,046 one-page segments), MAP_POPULATE, and the refusal of a MUNMAP sent without a reply.
/// </summary>
public sealed class FdLimitTests
{
    private static readonly int Page = SystemPage.Size;
    private static readonly long MaxMap = (long)Wire.MaxSegments * Page;

    /// <summary>
    /// Fds arrive 250 per message and are mapped and closed message by message, so 2,046 segments fit under a hard
    /// limit of 1,024 (the .NET runtime raises the soft limit to the hard one at start; here it cannot).
    /// </summary>
    [Fact]
    public async Task TwoThousandSegmentsMapUnderAHardLimitOf1024()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, Wire.MaxSegments).ToArray());
        using var c = StartClient("1024:1024");
        c.Ok($"open {host.Path}");
        Assert.Equal("0", c.Ok($"map 0 {MaxMap} rw"));
        c.Ok($"fill 0 0 {MaxMap} 9");
        foreach (int page in new[] { 0, 249, 250, 1024, Wire.MaxSegments - 1 })
            Assert.Equal(9, host.Driver.Kernel(((long)page * Page) + 5, 1)[0]);
        Assert.Equal("1", c.Ok($"map {Page} {Page} rw populate")); // the connection is in step
        Assert.Equal("9", c.Ok("get 1 0"));
        c.Ok("dispose 0");
        c.Ok("dispose 1");
        Assert.Equal("bye", c.Command("quit"));
        Eventually.WaitUntil(() => host.LiveMappings == 0, "the mappings to go");
    }

    /// <summary>
    /// A soft limit lowered after start (the runtime raised it to the hard one at start) with no room for one message's
    /// fds is raised to the hard limit before the map is asked.
    /// </summary>
    [Fact]
    public async Task ASoftLimitWithoutRoomIsRaisedToTheHardOne()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, Wire.MaxSegments).ToArray());
        using var c = StartClient("1024:4096");
        c.Ok($"open {host.Path}");
        Assert.Equal("100 4096", c.Ok("nofile 100"));
        Assert.Equal("0", c.Ok($"map 0 {MaxMap} rw"));
        Assert.Equal("4096 4096", c.Ok("nofile"));
        c.Ok($"fill 0 {MaxMap - Page} 1 5");
        Assert.Equal(5, host.Driver.Kernel(MaxMap - Page, 1)[0]);
        Assert.Equal("bye", c.Command("quit"));
    }

    /// <summary>A hard limit with no room for one message's fds fails that map with EMFILE before it is asked; the device stays usable.</summary>
    [Fact]
    public async Task AHardLimitWithoutRoomFailsTheOneMapWithEmfile()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, Wire.MaxSegments).ToArray());
        using var c = StartClient("100:100");
        c.Ok($"open {host.Path}");
        string answer = c.Command($"map 0 {MaxMap} rw");
        Assert.StartsWith("err EMFILE", answer, StringComparison.Ordinal);
        Assert.Equal(0, host.LiveMappings); // never asked
        Assert.Equal("0", c.Ok($"map {Page} {Page} rw populate"));
        c.Ok("fill 0 0 8 4");
        Assert.Equal(4, host.Driver.Kernel(Page, 1)[0]);
        Assert.Equal("bye", c.Command("quit"));
    }

    /// <summary>
    /// Fewer fds free than the check can see (open fds above the lowest free one): the kernel drops fds of the reply
    /// (MSG_CTRUNC); the map fails with EMFILE, the rest of the reply is drained and the host forgets the mapping.
    /// </summary>
    [Fact]
    public async Task FdsTheKernelDropsFailTheOneMapWithEmfile()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, 300).ToArray());
        using var c = StartClient("200:200");
        c.Ok($"open {host.Path}");
        c.Ok("hog 10");
        Assert.StartsWith("err EMFILE", c.Command($"map 0 {300L * Page} rw"), StringComparison.Ordinal); // 250 fds at once: refused before asking
        Assert.StartsWith("err EMFILE", c.Command($"map 0 {40L * Page} rw"), StringComparison.Ordinal); // 40 fds, 10 free, the check cannot tell
        Assert.Equal("0", c.Ok($"map 0 {8L * Page} rw")); // 8 fit
        c.Ok("hog 0");
        Assert.StartsWith("err EMFILE", c.Command($"map 0 {Page} rw"), StringComparison.Ordinal); // no fd at all: one page
        c.Ok("unhog");
        Eventually.WaitUntil(() => host.LiveMappings == 1, "the host to forget the failed mappings");
        Assert.Equal("1", c.Ok($"map 0 {100L * Page} rw")); // the connection is in step
        c.Ok($"fill 1 {99L * Page} 1 3");
        Assert.Equal(3, host.Driver.Kernel(99L * Page, 1)[0]);
        Assert.Equal("bye", c.Command("quit"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefusedNoReplyMunmapEndsTheConnectionWithEconnreset(bool afterTheHostClosed)
    {
        await using var host = TestHost.Start();
        using var device = UmemDevice.Open(host.Path);
        using var m = device.Map(0, Page);
        device.Connection.MunmapNoReply(0xbad, (ulong)Page, new CallInfo("munmap({0})", host.Path)); // an unknown mapping: EBADF, then the host closes
        if (afterTheHostClosed) Thread.Sleep(100); // the next request's sendmsg then fails (EPIPE) with the refusal queued
        var e = Assert.Throws<ErrnoException>(() => device.Ioctl(Umem.TestDrivers.TestDeviceDriver.IoctlEcho, [1], new byte[1]));
        Assert.Equal(Errno.ECONNRESET, e.Errno);
        Assert.Contains("EBADF", e.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.ECONNRESET, Assert.Throws<ErrnoException>(() => device.Map(0, Page)).Errno);
        m.Span[0] = 1; // the local mapping outlives the connection
    }

    [Fact]
    public async Task PopulateMapsTheDevicePages()
    {
        await using var host = TestHost.Start(Enumerable.Repeat(3, 300).ToArray());
        using var device = UmemDevice.Open(host.Path);
        host.Driver.Kernel(299L * Page, 1)[0] = 42;
        using var m = device.Map(0, 300L * Page, Prot.ReadWrite, MapKind.Shared, MapOptions.Populate);
        Assert.Equal(42, m.Span[299 * Page]);
        m.Span[7] = 7;
        Assert.Equal(7, host.Driver.Kernel(7, 1)[0]);
    }

    private static ChildProcess StartClient(string nofile) =>
        ChildProcess.Start("prlimit", [$"--nofile={nofile}", "--", ChildProcess.DotNet, ChildProcess.TestAppPath, "client"]);
}
