using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>DDI_UMEM_SLEEP: wait until a free makes room, in strict arrival order; cancellable when asynchronous.</summary>
public sealed class SleepTests
{
    private static readonly int Page = SystemPage.Size;

    private static UmemAllocator Make(int maxPages) =>
        new(new UmemAllocatorOptions { MaxBytes = maxPages * (long)Page, MaxLockedBytes = maxPages * (long)Page });

    private static Task<UmemCookie> SleepOnOwnThread(UmemAllocator allocator, long size, UmemFlags flags = UmemFlags.Sleep) =>
        Task.Factory.StartNew(() => allocator.Alloc(size, flags), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Theory]
    [InlineData(UmemFlags.Sleep)]
    [InlineData(UmemFlags.Pageable)]
    public void SleepingAllocIsWokenByAFreeOnAnotherThread(UmemFlags flags)
    {
        using var allocator = Make(4);
        var held = allocator.Alloc(4L * Page, flags);
        held.Span.Fill(9);
        var sleeper = SleepOnOwnThread(allocator, 2L * Page, flags);
        WaitForWaiters(allocator, 1);
        Assert.False(sleeper.IsCompleted);
        Assert.Equal(4L * Page, allocator.GetStatistics().TotalBytes);

        allocator.Free(held);
        var cookie = Await(sleeper);
        Assert.Equal(2L * Page, cookie.Size);
        Assert.True(IsAllZero(cookie));
        Assert.Equal(0, allocator.GetStatistics().Waiters);
        allocator.Free(cookie);
    }

    [Fact]
    public async Task AsyncSleepIsWokenByAFreeOnAnotherThread()
    {
        using var allocator = Make(2);
        var held = allocator.Alloc(2L * Page, UmemFlags.Pageable);
        var pending = allocator.AllocAsync(Page, UmemFlags.Sleep, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        Assert.False(pending.IsCompleted);
        Assert.Equal(1, allocator.GetStatistics().Waiters);

        await Task.Factory.StartNew(() => allocator.Free(held), TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var cookie = await pending.WaitAsync(Guard, TestContext.Current.CancellationToken);
        Assert.Equal(UmemCookieType.KmemNonPageable, cookie.Type);
        allocator.Free(cookie);
    }

    [Fact]
    public async Task AsyncAllocThatFitsCompletesAtOnce()
    {
        using var allocator = Make(2);
        var task = allocator.AllocAsync(1, UmemFlags.Pageable, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(task.IsCompletedSuccessfully);
        allocator.Free(await task);
    }

    [Fact]
    public async Task CancellingAWaitingAllocGivesUpItsPlaceAndNothingElse()
    {
        using var allocator = Make(2);
        var held = allocator.Alloc(2L * Page, UmemFlags.Sleep);
        using var cts = new CancellationTokenSource();
        var pending = allocator.AllocAsync(Page, UmemFlags.Sleep, cancellationToken: cts.Token).AsTask();
        Assert.Equal(1, allocator.GetStatistics().Waiters);

        await cts.CancelAsync();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Guard, TestContext.Current.CancellationToken));
        Assert.Equal(cts.Token, e.CancellationToken);
        var stats = allocator.GetStatistics();
        Assert.Equal((0, 2L * Page, 1L), (stats.Waiters, stats.TotalBytes, stats.LockedCount));

        // The cancelled request was never charged: after the free, everything is back to zero.
        allocator.Free(held);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenFailsWithoutWaiting()
    {
        using var allocator = Make(2);
        var cancelled = new CancellationToken(canceled: true);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => allocator.AllocAsync(Page, UmemFlags.Sleep, cancellationToken: cancelled).AsTask());
        Assert.Equal(default(UmemStatistics), allocator.GetStatistics());
    }

    [Fact]
    public async Task CancellingTheHeadWaiterLetsTheNextOneProceed()
    {
        using var allocator = Make(4);
        var held = allocator.Alloc(3L * Page, UmemFlags.Pageable);
        using var headCts = new CancellationTokenSource();
        var head = allocator.AllocAsync(4L * Page, UmemFlags.Pageable, cancellationToken: headCts.Token).AsTask();
        var next = allocator.AllocAsync(Page, UmemFlags.Pageable, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        // One page is free, but the next waiter must not pass the head.
        Assert.Equal((2, 3L * Page), (allocator.GetStatistics().Waiters, allocator.GetStatistics().TotalBytes));

        await headCts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => head.WaitAsync(Guard, TestContext.Current.CancellationToken));
        var cookie = await next.WaitAsync(Guard, TestContext.Current.CancellationToken);
        Assert.Equal(4L * Page, allocator.GetStatistics().TotalBytes);
        allocator.Free(cookie);
        allocator.Free(held);
    }

    [Fact]
    public async Task ALargeWaiterAtTheHeadIsNotOvertakenBySmallOnes()
    {
        using var allocator = Make(4);
        var ct = TestContext.Current.CancellationToken;
        var held = Enumerable.Range(0, 4).Select(_ => allocator.Alloc(Page, UmemFlags.Pageable)).ToList();
        var large = allocator.AllocAsync(4L * Page, UmemFlags.Pageable, cancellationToken: ct).AsTask();
        var small = Enumerable.Range(0, 5).Select(_ => allocator.AllocAsync(Page, UmemFlags.Pageable, cancellationToken: ct).AsTask()).ToList();
        Assert.Equal(6, allocator.GetStatistics().Waiters);

        // Each free makes room a small request would fit in; none is served while the large head waits.
        for (int i = 0; i < 3; i++)
        {
            allocator.Free(held[i]);
            var s = allocator.GetStatistics();
            Assert.Equal((6, (3L - i) * Page), (s.Waiters, s.TotalBytes));
            Assert.False(allocator.TryAlloc(Page, UmemFlags.Pageable, out _)); // newcomers do not pass either
        }
        allocator.Free(held[3]);
        var big = await large.WaitAsync(Guard, ct);
        Assert.Equal(4L * Page, big.Size);
        Assert.Equal(5, allocator.GetStatistics().Waiters);

        // Then the small ones, in order: four fit, the fifth waits.
        allocator.Free(big);
        var served = new List<UmemCookie>();
        for (int i = 0; i < 4; i++) served.Add(await small[i].WaitAsync(Guard, ct));
        Assert.Equal(1, allocator.GetStatistics().Waiters);
        Assert.False(small[4].IsCompleted);
        allocator.Free(served[0]);
        served[0] = await small[4].WaitAsync(Guard, ct);
        FreeAll(allocator, served);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void WaitersAreServedInArrivalOrder()
    {
        using var allocator = Make(1);
        var held = allocator.Alloc(Page, UmemFlags.Sleep);
        var sleepers = new List<Task<UmemCookie>>();
        for (int i = 0; i < 4; i++)
        {
            sleepers.Add(SleepOnOwnThread(allocator, Page));
            WaitForWaiters(allocator, i + 1); // so arrival order is known
        }
        var current = held;
        foreach (var sleeper in sleepers)
        {
            allocator.Free(current);
            current = Await(sleeper);
            // Exactly the head was served: the others still wait.
            Assert.Equal(sleepers.Count(t => !t.IsCompleted), allocator.GetStatistics().Waiters);
        }
        allocator.Free(current);
        Assert.Equal(4 + 1, allocator.GetStatistics().TotalAllocations);
    }

    [Fact]
    public async Task DisposingFailsEveryWaiter()
    {
        var allocator = Make(1);
        var held = allocator.Alloc(Page, UmemFlags.Sleep);
        var sync = SleepOnOwnThread(allocator, Page);
        WaitForWaiters(allocator, 1);
        var async = allocator.AllocAsync(Page, UmemFlags.Pageable, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        allocator.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sync.WaitAsync(Guard, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => async.WaitAsync(Guard, TestContext.Current.CancellationToken));
        // Live cookies stay valid after the allocator is gone, and can still be freed.
        held.Span[0] = 1;
        allocator.Free(held);
        Assert.Equal(0, allocator.GetStatistics().TotalBytes);
    }
}
