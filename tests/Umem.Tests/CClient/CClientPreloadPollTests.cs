using Umem.Client;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// Readiness through libumem-preload.so: unmodified programs wait on a MessageDriver node in poll(2), select(2),
/// epoll_wait(2) or a blocking read(2) and wake when a C# client writes to it (chpoll(9E), pollwakeup(9F), the
/// protocol's POLL and EVENT); once they exit, no armed poll or connection of theirs is left in the host.
/// </summary>
public sealed partial class CClientBuildTests
{
    [Theory]
    [InlineData("poll")]
    [InlineData("select")]
    [InlineData("epoll")]
    public async Task AnUnmodifiedProgramWaitingOnTheNodeWakesWhenACSharpClientWrites(string how)
    {
        var runner = Runner.For("64");
        await using var node = await MessageNode.StartAsync(readWaits: false);
        using var program = runner.StartPreloaded("plain_poll", node.Path, how);
        // The program's poll is armed in the host (its pollhead has a subscriber) before anything is written.
        Eventually.WaitUntil(() => node.Driver.PollHead.SubscriberCount == 1, $"plain_poll {how} to wait on the node");
        using (var csharp = UmemDevice.Open(node.Path, FileAccess.Write))
            Assert.Equal(7, csharp.Write("wake up"u8));
        var r = program.Finish();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("got: wake up\n", r.Stdout, StringComparison.Ordinal);
        node.AssertNothingLeft();
    }

    [Fact]
    public async Task AnUnmodifiedProgramSeesPollOutWhenTheQueueHasRoom()
    {
        var runner = Runner.For("64");
        await using var node = await MessageNode.StartAsync(readWaits: false);
        var r = runner.RunPreloaded("plain_poll", node.Path, "pollout");
        Assert.True(r.ExitCode == 0, r.ToString());
        node.AssertNothingLeft();
    }

    [Fact]
    public async Task AShellReadUnderTimeoutBlocksUntilDataArrives()
    {
        var runner = Runner.For("64");
        await using var node = await MessageNode.StartAsync(readWaits: true);
        // dd's read(2) finds the queue empty: the driver answers EAGAIN, the preload waits for POLLIN and reads again.
        using var dd = runner.StartPreloadedCommand("timeout", "60", "dd", $"if={node.Path}", "bs=64", "count=1", "status=none");
        Eventually.WaitUntil(() => node.Driver.PollHead.SubscriberCount == 1, "dd to block in read(2) on the node");
        using (var csharp = UmemDevice.Open(node.Path, FileAccess.Write))
            Assert.Equal(9, csharp.Write("late data"u8));
        var r = dd.Finish();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("late data", r.Stdout);
        node.AssertNothingLeft();
    }
}
