using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>Allocations and frees from several threads at once, bounded in iterations.</summary>
public sealed class ConcurrencyTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public void ThreadsNeverShareMemoryAndEverythingComesBack()
    {
        const int Threads = 4, Iterations = 400;
        using var allocator = new UmemAllocator(new UmemAllocatorOptions
        {
            MaxBytes = 24L * Page,
            MaxLockedBytes = 12L * Page,
            CacheBytes = 8L * Page,
        });
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            var held = new List<(UmemCookie Cookie, byte Mark)>();
            try
            {
                start.SignalAndWait();
                for (int i = 0; i < Iterations; i++)
                {
                    if (held.Count > 0 && (held.Count >= 3 || random.Next(2) == 0))
                    {
                        var (c, mark) = held[random.Next(held.Count)];
                        held.Remove((c, mark));
                        // Nobody else wrote into this memory while it was ours.
                        if (c.Span.ContainsAnyExcept(mark)) throw new InvalidOperationException($"{c} was written by someone else");
                        allocator.Free(c);
                        continue;
                    }
                    long size = random.Next(1, 5) * (long)Page - random.Next(Page);
                    var kind = random.Next(2) == 0 ? UmemFlags.Pageable : UmemFlags.Sleep;
                    UmemCookie? cookie;
                    if (held.Count == 0 && random.Next(3) == 0)
                        cookie = allocator.Alloc(size, kind); // sleeps only when holding nothing, so no thread waits on itself
                    else if (!allocator.TryAlloc(size, kind, out cookie))
                        continue;
                    if (!IsAllZero(cookie)) throw new InvalidOperationException($"{cookie} was not zero-filled");
                    byte m = (byte)(t * 50 + i % 50 + 1);
                    cookie.Span.Fill(m);
                    held.Add((cookie, m));
                }
                foreach (var (c, _) in held) allocator.Free(c);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(Guard), "a thread did not finish");
        Assert.Empty(errors);
        var s = allocator.GetStatistics();
        Assert.Equal((0L, 0L, 0, 0L), (s.TotalBytes, s.LockedCount + s.PageableCount, s.Waiters, s.DeferredCount));
        Assert.InRange(s.PeakBytes, Page, 24L * Page);
        Assert.InRange(s.PeakLockedBytes, 0, 12L * Page);
        Assert.InRange(s.CachedBytes, 0, 8L * Page);
    }

    [Fact]
    public async Task ManyAsyncWaitersSomeCancelledAllAccountedFor()
    {
        const int Waiters = 64;
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { MaxBytes = 2L * Page, MaxLockedBytes = 2L * Page });
        var ct = TestContext.Current.CancellationToken;
        var held = allocator.Alloc(2L * Page, UmemFlags.Pageable);
        var sources = Enumerable.Range(0, Waiters).Select(_ => new CancellationTokenSource()).ToArray();
        var tasks = sources.Select((cts, i) => allocator.AllocAsync(Page, i % 2 == 0 ? UmemFlags.Sleep : UmemFlags.Pageable, cancellationToken: cts.Token).AsTask()).ToArray();
        Assert.Equal(Waiters, allocator.GetStatistics().Waiters);

        // Cancel every third while frees are going on, from other threads.
        var cancelling = Task.Run(() => { for (int i = 0; i < Waiters; i += 3) sources[i].Cancel(); }, ct);
        allocator.Free(held);
        int served = 0, cancelled = 0;
        foreach (var task in tasks)
        {
            try
            {
                var c = await task.WaitAsync(Guard, ct);
                served++;
                allocator.Free(c); // each free lets the next waiter in
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }
        await cancelling.WaitAsync(Guard, ct);
        Assert.Equal(Waiters, served + cancelled);
        Assert.InRange(cancelled, 0, (Waiters + 2) / 3);
        var s = allocator.GetStatistics();
        Assert.Equal((0L, 0, 0L), (s.TotalBytes, s.Waiters, s.PageableCount + s.LockedCount));
        Assert.Equal(1 + served, s.TotalAllocations);
        foreach (var cts in sources) cts.Dispose();
    }
}
