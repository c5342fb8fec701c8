using System.Diagnostics;
using CsCheck;
using Umem.Client.Sync;

namespace Umem.Tests.Sync;

/// <summary>
/// The doorbell across real processes: this test process rings a ping doorbell (offset 0 of a memfd) and waits
/// on a pong doorbell (offset 64); a peer process (the C# Umem.SyncPeer or the C bench/native/syncpeer, the
/// same layout) waits for each ping and rings pong.
/// </summary>
[Collection(nameof(SyncProcesses))]
public sealed class DoorbellTests
{
    private static readonly TimeSpan Guard = SyncPeerProcess.Guard;

    [Theory]
    [InlineData(PeerKind.CSharp)]
    [InlineData(PeerKind.C)]
    public void PingPongWhileSpinningFindsTheRingWithoutSleeping(PeerKind peer)
    {
        // Spin budgets of several milliseconds (longer than a scheduler time slice): a reply is found while
        // spinning even when the machine is busy and a side is descheduled for a while.
        const int rounds = 5_000;
        const int spin = 100_000;
        var (mine, theirs) = PingPong(peer, rounds, mySpin: spin, peerSpin: spin);
        Assert.True(mine.WaitsSatisfiedBySpinning > 0, $"no wait was satisfied while spinning ({mine.Sleeps} slept)");
        Assert.True(SyncPeerProcess.LongField(theirs, "spun") > 0, theirs);
    }

    [Fact]
    public void WaitsThatSleepHalveTheSpinBudget()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address) { SpinCount = 64 };
        Assert.Equal(64, doorbell.SpinBudget);
        int expected = 64;
        for (int i = 0; i < 4; i++)
        {
            // Halved, never below ~0.5 µs of pauses (at least 8): a spinning peer is still seen.
            expected = Math.Min(64, Math.Max(AdaptiveWait.MinSpinBudget, expected / 2));
            Assert.False(doorbell.TryWait(0, TimeSpan.FromMilliseconds(1), out _, TestContext.Current.CancellationToken));
            Assert.Equal(expected, doorbell.SpinBudget);
        }
        doorbell.SpinCount = 4;
        Assert.Equal(4, doorbell.SpinBudget);   // the spin count bounds the budget
        doorbell.SpinCount = 0;
        Assert.False(doorbell.TryWait(0, TimeSpan.FromMilliseconds(1), out _, TestContext.Current.CancellationToken));
        Assert.Equal(0, doorbell.SpinBudget);
    }

    [Theory]
    [InlineData(PeerKind.CSharp)]
    [InlineData(PeerKind.C)]
    public void PingPongWithoutSpinningSleepsInTheKernel(PeerKind peer)
    {
        const int rounds = 3_000;
        var (mine, theirs) = PingPong(peer, rounds, mySpin: 0, peerSpin: 0);
        Assert.True(mine.Sleeps > 0, "the test side never slept");
        Assert.True(SyncPeerProcess.LongField(theirs, "slept") > 0, theirs);
        Assert.True(mine.Wakes > 0, "the test side never had to wake the peer");
    }

    [Fact]
    public void NoWakeUpIsLostWhateverTheSpinCounts()
    {
        // Small, varied spin budgets put the ring right where waiters go from spinning to sleeping; a lost
        // wake-up would leave one side asleep until the guard timeout.
        Gen.Select(Gen.Int[0, 40], Gen.Int[0, 40], Gen.Int[500, 3_000])
            .Sample((mySpin, peerSpin, rounds) => PingPong(PeerKind.C, rounds, mySpin, peerSpin), iter: 12, threads: 1);
    }

    [Fact]
    public void OneRingWakesEverySleeperOnce()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address);
        using var first = SyncPeerProcess.CSharp("doorbell-wait", memory.ProcPath, "0", "0", "60000");
        using var second = SyncPeerProcess.C("doorbell-echo", memory.ProcPath, "0", "1");
        // Ring only once both are asleep in FUTEX_WAIT (counted in the waiters word).
        SpinUntil(() => doorbell.Sleepers == 2);
        Assert.Equal(0L, doorbell.Wakes);
        Assert.Equal(1u, doorbell.Ring());
        Assert.Equal(1L, doorbell.Wakes);
        Assert.Contains("value=1", first.WaitForSuccess(), StringComparison.Ordinal);
        second.WaitForSuccess();
    }

    [Fact]
    public void RingingWhileNobodySleepsMakesNoSystemCall()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address);
        for (int i = 1; i <= 1000; i++)
            Assert.Equal((uint)i, doorbell.Ring());
        Assert.Equal(0L, doorbell.Wakes);
        Assert.True(doorbell.TryWait(999, TimeSpan.Zero, out uint current, TestContext.Current.CancellationToken));
        Assert.Equal(1000u, current);
    }

    [Fact]
    public async Task WithoutAWaitersWordEveryRingWakes()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address, 0);
        doorbell.Ring();
        doorbell.Ring();
        Assert.Equal(2L, doorbell.Wakes);
        Assert.Equal(0u, doorbell.Sleepers);
        var waiter = Task.Run(() => doorbell.Wait(2), TestContext.Current.CancellationToken);
        // Nobody can count this sleeper, so only the unconditional wake reaches it.
        SpinUntil(() => doorbell.Sleeps > 0 || waiter.IsCompleted);
        doorbell.Ring();
        Assert.Equal(3u, await waiter.WaitAsync(Guard, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void WaitTimesOutWhenNobodyRings()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address) { SpinCount = 10 };
        var timeout = TimeSpan.FromMilliseconds(30);
        long start = Stopwatch.GetTimestamp();
        Assert.False(doorbell.TryWait(0, timeout, out uint current, TestContext.Current.CancellationToken));
        // Not a performance check: a wait that gave up before its timeout would be a bug.
        Assert.True(Stopwatch.GetElapsedTime(start) >= timeout);
        Assert.Equal(0u, current);
        Assert.Equal(0u, doorbell.Sleepers);
        Assert.False(doorbell.TryWait(0, TimeSpan.Zero, out _, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TheLongestTimeoutStillWaits()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address) { SpinCount = 0 };
        var waiter = Task.Run(() => doorbell.TryWait(0, TimeSpan.MaxValue, out uint value, TestContext.Current.CancellationToken) ? value : 0u,
            TestContext.Current.CancellationToken);
        SpinUntil(() => doorbell.Sleepers == 1);
        doorbell.Ring();
        Assert.Equal(1u, await waiter.WaitAsync(Guard, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void TimeoutInAnotherProcess()
    {
        using var memory = new SealedSharedMemory(4096);
        using var peer = SyncPeerProcess.CSharp("doorbell-wait", memory.ProcPath, "0", "0", "20");
        peer.WaitForLine("timeout");
    }

    [Fact]
    public async Task CancellationWakesASleepingWaiter()
    {
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address) { SpinCount = 0 };
        using var cts = new CancellationTokenSource();
        var waiter = Task.Run(() => doorbell.Wait(0, cts.Token), TestContext.Current.CancellationToken);
        SpinUntil(() => doorbell.Sleepers == 1);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Guard, TestContext.Current.CancellationToken));
        Assert.Equal(0u, doorbell.Sleepers);
        Assert.Equal(0u, doorbell.Sequence);
    }

    [Fact]
    public void CancellationAtAnyMomentEndsTheWait()
    {
        // Cancel at random moments around the waiter's way into FUTEX_WAIT: every wait must end.
        using var memory = new SealedSharedMemory(4096);
        var doorbell = new SharedDoorbell(memory.Address) { SpinCount = 0 };
        Gen.Int[0, 200].Sample(spins =>
        {
            using var cts = new CancellationTokenSource();
            Exception? outcome = null;
            var waiter = new Thread(() =>
            {
                try
                {
                    doorbell.Wait(0, cts.Token);
                }
                catch (Exception e)
                {
                    outcome = e;
                }
            });
            waiter.Start();
            Thread.SpinWait(spins * 10);
            cts.Cancel();
            Assert.True(waiter.Join(Guard), "the wait did not end after cancellation");
            Assert.IsAssignableFrom<OperationCanceledException>(outcome);
        }, iter: 200, threads: 1);
        Assert.Equal(0u, doorbell.Sleepers);
    }

    [Fact]
    public void BadArgumentsAreRefusedByName()
    {
        using var memory = new SealedSharedMemory(4096);
        Assert.Contains("aligned", Assert.Throws<ArgumentException>(() => new SharedDoorbell(memory.Address + 2)).Message, StringComparison.Ordinal);
        Assert.Contains("null", Assert.Throws<ArgumentException>(() => new SharedDoorbell(0)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedDoorbell(memory.Address) { SpinCount = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedDoorbell(memory.Address).TryWait(0, TimeSpan.FromSeconds(-2), out _, TestContext.Current.CancellationToken));
    }

    /// <summary>Runs <paramref name="rounds"/> ping-pongs against a peer; returns the ping doorbell's counters and the peer's report.</summary>
    private static (Counted Mine, string Theirs) PingPong(PeerKind kind, int rounds, int mySpin, int peerSpin)
    {
        using var memory = new SealedSharedMemory(4096);
        var ping = new SharedDoorbell(memory.Address) { SpinCount = mySpin };
        var pong = new SharedDoorbell(memory.Address + 64) { SpinCount = mySpin };
        using var peer = SyncPeerProcess.Start(kind, "doorbell-echo", memory.ProcPath, peerSpin.ToString(System.Globalization.CultureInfo.InvariantCulture),
            rounds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        uint last = 0;
        for (int i = 1; i <= rounds; i++)
        {
            Assert.Equal((uint)i, ping.Ring());
            if (!pong.TryWait(last, Guard, out last, TestContext.Current.CancellationToken))
                Assert.Fail($"round {i}: no pong within {Guard} (lost wake-up?). {peer.Describe()}");
            Assert.Equal((uint)i, last);
        }
        string report = SyncPeerProcess.LastLine(peer.WaitForSuccess(), "spun=");
        Assert.Equal((uint)rounds, ping.Sequence);
        Assert.Equal((uint)rounds, pong.Sequence);
        Assert.Equal(0u, ping.Sleepers);
        Assert.Equal(0u, pong.Sleepers);
        // This side waits on pong and rings ping.
        return (new Counted(pong.WaitsSatisfiedBySpinning, pong.Sleeps, ping.Wakes), report);
    }

    private static void SpinUntil(Func<bool> condition)
    {
        Assert.True(SpinWait.SpinUntil(condition, Guard), "condition not reached within the guard timeout");
    }

    internal sealed record Counted(long WaitsSatisfiedBySpinning, long Sleeps, long Wakes);
}
