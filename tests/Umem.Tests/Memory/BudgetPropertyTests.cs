using CsCheck;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>
/// Property tests: the budget and the statistics stay exact under random programs, run sequentially against a
/// model and concurrently on several threads; after everything is freed every count is back to 0.
/// </summary>
public sealed class BudgetPropertyTests
{
    private static readonly int Page = SystemPage.Size;
    // Cookies of up to 4 pages are one memfd per page, so the memfd limit binds before the byte budget at times.
    private const int MaxPages = 8, MaxLockedPages = 4, MaxFds = 6;

    /// <summary>One step of a thread's program.</summary>
    /// <param name="Free">Free a held cookie (the one at <paramref name="Pick"/> modulo the count) instead of allocating.</param>
    /// <param name="Pages">Pages to allocate.</param>
    /// <param name="Locked">Locked (else DDI_UMEM_PAGEABLE).</param>
    /// <param name="Mode">0: NOSLEEP (Try), 1: NOSLEEP (throwing), 2: SLEEP, 3: SLEEP async with a cancellation.</param>
    /// <param name="Exports">References taken as mappings would, released after (or before) the free.</param>
    /// <param name="Pick">Which held cookie a free picks; also the cancellation delay in ms for mode 3.</param>
    public sealed record Step(bool Free, int Pages, bool Locked, int Mode, int Exports, int Pick)
    {
        public override string ToString() => Free ? $"Free#{Pick}" : $"Alloc({Pages}p,{(Locked ? "L" : "P")},m{Mode},x{Exports})";
    }

    private static readonly Gen<Step> GenStep =
        Gen.Select(Gen.Int[0, 9], Gen.Int[1, MaxLockedPages], Gen.Bool, Gen.Int[0, 3], Gen.Int[0, 2], Gen.Int[0, 3])
            .Select((f, pages, locked, mode, exports, pick) => new Step(f < 4, pages, locked, mode, exports, pick));

    [Fact]
    public void SequentialProgramsMatchTheModelExactly()
    {
        Gen.Select(GenStep.Array[1, 60], Gen.Int[0, 2]).Sample((steps, cachePages) =>
        {
            using var allocator = new UmemAllocator(Options(cachePages));
            var held = new List<UmemCookie>();
            long locked = 0, pageable = 0, lockedCount = 0, pageableCount = 0, peak = 0, peakLocked = 0, peakPageable = 0, allocations = 0, memfds = 0;
            foreach (var step in steps)
            {
                if (step.Free)
                {
                    if (held.Count == 0) continue;
                    var c = held[step.Pick % held.Count];
                    held.Remove(c);
                    allocator.Free(c);
                    if (c.Type == UmemCookieType.KmemNonPageable) { locked -= c.Size; lockedCount--; } else { pageable -= c.Size; pageableCount--; }
                    memfds -= c.Size / Page;
                }
                else
                {
                    long bytes = step.Pages * (long)Page;
                    bool fits = locked + pageable + bytes <= MaxPages * (long)Page && (!step.Locked || locked + bytes <= MaxLockedPages * (long)Page)
                        && memfds + step.Pages <= MaxFds;
                    bool got = allocator.TryAlloc(bytes - (step.Pick % 2), step.Locked ? UmemFlags.NoSleep : UmemFlags.Pageable, out var c);
                    Assert.Equal(fits, got);
                    if (!got) continue;
                    Assert.True(IsAllZero(c!));
                    Scribble(c!);
                    held.Add(c!);
                    allocations++;
                    if (step.Locked) { locked += bytes; lockedCount++; } else { pageable += bytes; pageableCount++; }
                    memfds += step.Pages;
                    peak = Math.Max(peak, locked + pageable);
                    peakLocked = Math.Max(peakLocked, locked);
                    peakPageable = Math.Max(peakPageable, pageable);
                }
                var s = allocator.GetStatistics();
                Assert.Equal((locked, lockedCount, pageable, pageableCount, memfds), (s.LockedBytes, s.LockedCount, s.PageableBytes, s.PageableCount, s.Memfds));
                Assert.Equal((peak, peakLocked, peakPageable, allocations), (s.PeakBytes, s.PeakLockedBytes, s.PeakPageableBytes, s.TotalAllocations));
                Assert.InRange(s.CachedBytes, 0, cachePages * (long)Page);
            }
            FreeAll(allocator, held);
            AssertAllReturned(allocator.GetStatistics());
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void ConcurrentProgramsKeepTheBudgetAndStatisticsExact()
    {
        Gen.Select(GenStep.Array[1, 25].Array[2, 4], Gen.Int[0, 2]).Sample((programs, cachePages) =>
        {
            using var allocator = new UmemAllocator(Options(cachePages));
            var results = new ThreadResult[programs.Length];
            using var start = new Barrier(programs.Length);
            var threads = programs.Select((program, i) => new Thread(() =>
            {
                start.SignalAndWait();
                results[i] = Run(allocator, program);
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) Assert.True(t.Join(Guard), "a program did not finish (deadlock?)");
            foreach (var r in results) Assert.True(r.Error is null, r.Error?.ToString());

            var s = allocator.GetStatistics();
            AssertAllReturned(s);
            Assert.Equal(results.Sum(r => r.Allocations), s.TotalAllocations);
            // The high-water marks are within the budget, consistent with each other, and at least what was seen.
            Assert.InRange(s.PeakBytes, results.Max(r => r.MaxSeenTotal), MaxPages * (long)Page);
            Assert.InRange(s.PeakLockedBytes, results.Max(r => r.MaxSeenLocked), MaxLockedPages * (long)Page);
            Assert.InRange(s.PeakPageableBytes, results.Max(r => r.MaxSeenPageable), MaxPages * (long)Page);
            Assert.True(s.PeakBytes <= s.PeakLockedBytes + s.PeakPageableBytes);
            Assert.True(s.PeakLockedBytes <= s.PeakBytes && s.PeakPageableBytes <= s.PeakBytes);
            Assert.InRange(s.PeakMemfds, 0, MaxFds);
        }, iter: 60, threads: 1);
    }

    private static UmemAllocatorOptions Options(int cachePages) => new()
    {
        MaxBytes = MaxPages * (long)Page,
        MaxLockedBytes = MaxLockedPages * (long)Page,
        CacheBytes = cachePages * (long)Page,
        MaxFds = MaxFds,
        Name = "umem-property",
    };

    private static void AssertAllReturned(UmemStatistics s)
    {
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (s.LockedBytes, s.LockedCount, s.PageableBytes, s.PageableCount, s.Memfds));
        Assert.Equal((0, 0L), (s.Waiters, s.DeferredCount));
    }

    private sealed class ThreadResult
    {
        public Exception? Error;
        public long Allocations, MaxSeenTotal, MaxSeenLocked, MaxSeenPageable;
    }

    private static ThreadResult Run(UmemAllocator allocator, Step[] program)
    {
        var r = new ThreadResult();
        var held = new List<(UmemCookie Cookie, int Exports)>();
        long ownLocked = 0, ownPageable = 0;
        try
        {
            foreach (var step in program)
            {
                if (step.Free)
                {
                    if (held.Count == 0) continue;
                    var (c, exports) = held[step.Pick % held.Count];
                    held.RemoveAt(step.Pick % held.Count);
                    if (c.Type == UmemCookieType.KmemNonPageable) ownLocked -= c.Size; else ownPageable -= c.Size;
                    Release(allocator, c, exports, releaseFirst: step.Pick % 2 == 0);
                }
                else
                {
                    var c = Allocate(allocator, step, holdsNothing: held.Count == 0);
                    if (c is not null)
                    {
                        r.Allocations++;
                        if (!IsAllZero(c)) throw new InvalidOperationException($"{c} was not zero-filled");
                        Scribble(c);
                        for (int i = 0; i < step.Exports; i++)
                            if (!c.TryAddReference()) throw new InvalidOperationException("TryAddReference failed on a live cookie");
                        held.Add((c, step.Exports));
                        if (step.Locked) ownLocked += c.Size; else ownPageable += c.Size;
                    }
                }
                // What this thread holds is charged: the global counts can never be below it, nor above the budget.
                var s = allocator.GetStatistics();
                if (s.LockedBytes < ownLocked || s.PageableBytes < ownPageable || s.TotalBytes > MaxPages * (long)Page
                    || s.LockedBytes > MaxLockedPages * (long)Page || s.TotalBytes > s.PeakBytes || s.LockedBytes > s.PeakLockedBytes)
                    throw new InvalidOperationException($"inconsistent statistics {s} while holding {ownLocked} locked, {ownPageable} pageable");
                r.MaxSeenTotal = Math.Max(r.MaxSeenTotal, ownLocked + ownPageable);
                r.MaxSeenLocked = Math.Max(r.MaxSeenLocked, ownLocked);
                r.MaxSeenPageable = Math.Max(r.MaxSeenPageable, ownPageable);
            }
            foreach (var (c, exports) in held) Release(allocator, c, exports, releaseFirst: false);
        }
        catch (Exception e)
        {
            r.Error = e;
        }
        return r;
    }

    private static UmemCookie? Allocate(UmemAllocator allocator, Step step, bool holdsNothing)
    {
        long size = step.Pages * (long)Page;
        var kind = step.Locked ? UmemFlags.Sleep : UmemFlags.Pageable;
        // Only a thread that holds nothing may sleep: a holder that waits could wait for itself.
        int mode = holdsNothing ? step.Mode : step.Mode % 2;
        switch (mode)
        {
            case 0:
                return allocator.TryAlloc(size, kind, out var c) ? c : null;
            case 1:
                try
                {
                    return allocator.Alloc(size, kind | UmemFlags.NoSleep);
                }
                catch (ErrnoException e) when (e.Errno == Errno.ENOMEM)
                {
                    return null;
                }
            case 2:
                return allocator.Alloc(size, kind);
            default:
                using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(step.Pick)))
                {
                    try
                    {
                        var task = allocator.AllocAsync(size, kind, cancellationToken: cts.Token).AsTask();
                        return task.Wait(Guard) ? task.Result : throw new TimeoutException("AllocAsync did not finish");
                    }
                    catch (AggregateException e) when (e.InnerException is OperationCanceledException)
                    {
                        return null;
                    }
                }
        }
    }

    private static void Release(UmemAllocator allocator, UmemCookie cookie, int exports, bool releaseFirst)
    {
        if (releaseFirst)
        {
            for (int i = 0; i < exports; i++) cookie.Release();
            allocator.Free(cookie);
        }
        else
        {
            allocator.Free(cookie);
            for (int i = 0; i < exports; i++) cookie.Release();
        }
    }
}
