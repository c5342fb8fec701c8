using Umem.Host;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Host;

/// <summary>
/// The idle timeout after HELLO (issue 12): a connection that holds nothing and sends nothing is closed; one that
/// holds an open file or a mapping is never closed for idleness, and one that keeps sending is kept.
/// </summary>
public sealed class IdleTimeoutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task AConnectionHoldingNothingIsClosedAndOneHoldingSomethingIsKept()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { IdleTimeout = Timeout });
        using var holdsAnOpen = RawClient.Ready(host.Path, out ulong open);
        using var holdsAMapping = RawClient.Ready(host.Path, out ulong mapped);
        Assert.Equal(0, holdsAMapping.Request(b => new MmapRequest(mapped, 0, (ulong)SystemPage.Size, 1, 1).Write(b, 3)));
        ulong mapping = BitConverter.ToUInt64(holdsAMapping.LastReply, Wire.ReplyPrefixSize);
        Assert.Equal(0, holdsAMapping.Request(b => new IdRequest(MessageType.Close, mapped).Write(b, 4))); // the mapping outlives the close
        using (var silent = new RawClient(host.Path))
        {
            Assert.Equal(0, silent.Request(b => new HelloRequest(1, 1).Write(b, 1)));
            Assert.True(silent.IsClosedByHost()); // after the idle timeout
        }
        using (var closedItsOpen = RawClient.Ready(host.Path, out ulong h))
        {
            Assert.Equal(0, closedItsOpen.Request(b => new IdRequest(MessageType.Close, h).Write(b, 5)));
            Assert.True(closedItsOpen.IsClosedByHost()); // it holds nothing any more
        }

        // The sleeps are the thing under test, not a synchronisation: several idle timeouts pass. The busy client
        // holds nothing but sends a request (refused: no such handle) well within each timeout.
        using var busy = new RawClient(host.Path);
        Assert.Equal(0, busy.Request(b => new HelloRequest(1, 1).Write(b, 1)));
        for (int i = 0; i < 8; i++)
        {
            Thread.Sleep(Timeout / 4);
            Assert.Equal((int)Errno.EBADF, busy.Request(b => new IdRequest(MessageType.Close, 99).Write(b, busy.NextSeq)));
        }
        Thread.Sleep(Timeout * 3);
        Assert.True(holdsAnOpen.StillServed(open));
        Assert.Equal(0, holdsAMapping.Request(b => new MunmapRequest(mapping, 0, (ulong)SystemPage.Size).Write(b, 6)));
        Assert.True(holdsAMapping.IsClosedByHost()); // the unmap left it with nothing
    }

    [Fact]
    public async Task ZeroTurnsItOff()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { IdleTimeout = TimeSpan.Zero, HelloTimeout = Timeout });
        using var silent = new RawClient(host.Path);
        Assert.Equal(0, silent.Request(b => new HelloRequest(1, 1).Write(b, 1)));
        Thread.Sleep(Timeout * 3); // past the HELLO timeout too: HELLO stopped that timer
        using var other = RawClient.Ready(host.Path, out ulong h);
        Assert.True(other.StillServed(h));
        Assert.Equal(2, host.Host.ConnectionCount);
    }

    [Fact]
    public void ANegativeTimeoutIsRefusedByName()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceHostOptions { IdleTimeout = TimeSpan.FromSeconds(-1) }.Validate());
        Assert.Equal(nameof(DeviceHostOptions.IdleTimeout), e.ParamName);
    }
}
