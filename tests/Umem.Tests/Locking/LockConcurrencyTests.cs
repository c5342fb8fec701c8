using CsCheck;
using Umem.Kernel.Locking;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Tests.Locking;

/// <summary>
/// Check-and-charge under concurrency: many threads lock and unlock random overlapping ranges in several
/// projects of one zone under tight limits. No project or zone ever goes past its limit (the peak is recorded
/// inside the charge path), and every usage, page count and mlock returns exactly to zero.
/// </summary>
public sealed class LockConcurrencyTests
{
    private const int Projects = 3;
    private const int BufferPages = 8;
    private const int Threads = 4;

    private sealed record Op(int Process, int StartPage, int Pages, bool UnlockOne);

    private sealed record Scenario(int[] ProjectLimitPages, int ZoneLimitPages, Op[][] Ops);

    private static readonly Gen<Op> s_op = Gen.Select(Gen.Int[0, Projects - 1], Gen.Int[0, BufferPages - 1], Gen.Int[1, 4], Gen.Bool,
        (p, s, n, u) => new Op(p, s, Math.Min(n, BufferPages - s), u));

    private static readonly Gen<Scenario> s_scenario = Gen.Select(Gen.Int[1, 8].Array[Projects], Gen.Int[2, 16], s_op.Array[20, 120].Array[Threads],
        (limits, zone, ops) => new Scenario(limits, zone, ops));

    [Fact]
    public void LimitsHoldAndEveryChargeComesBack()
    {
        long page = SystemPage.Size;
        long denied = 0;
        s_scenario.Sample(s =>
        {
            string projects = string.Concat(Enumerable.Range(0, Projects).Select(i =>
                $"p{i}:{100 + i}::root::project.max-locked-memory=(privileged,{s.ProjectLimitPages[i] * page},deny)\n"));
            var registry = new ResourceControlRegistry(ProjectDatabase.Parse(projects, "p"),
                ZoneDatabase.Parse($"global:0::zone.max-locked-memory=(privileged,{s.ZoneLimitPages * page},deny)\n", "z"), UserDatabase.Load());
            var processes = Enumerable.Range(0, Projects).Select(i => UmemProcess.CreateSelf(registry, $"p{i}")).ToArray();
            try
            {
                var buffers = processes.Select(p => p.AllocateBuffer(BufferPages * page)).ToArray();
                using var start = new Barrier(Threads);
                var threads = s.Ops.Select(ops => new Thread(() =>
                {
                    var held = new Stack<UmemLockCookie>();
                    start.SignalAndWait();
                    foreach (var op in ops)
                    {
                        if (op.UnlockOne && held.Count > 0)
                        {
                            held.Pop().Unlock();
                            continue;
                        }
                        var e = UmemLock.TryLock(processes[op.Process], buffers[op.Process].UserAddress + (ulong)(op.StartPage * page),
                            op.Pages * page, UmemLockFlags.Read, out var cookie);
                        if (e == Errno.None) held.Push(cookie!);
                        else if (e == Errno.ENOMEM) Interlocked.Increment(ref denied);
                        else throw new ErrnoException(e, "TryLock");
                    }
                    while (held.Count > 0) held.Pop().Unlock();
                })).ToArray();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();

                for (int i = 0; i < Projects; i++)
                {
                    var control = registry.GetProject(100 + i).LockedMemory;
                    Assert.True(control.PeakUsage <= (ulong)(s.ProjectLimitPages[i] * page), $"project p{i} peaked at {control.PeakUsage} over {control.Limit}");
                    Assert.Equal(0UL, control.Usage);
                    Assert.Equal(0, buffers[i].LockedBytes);
                    Assert.Equal(0, Smaps.LockedBytes(buffers[i].HostAddress, buffers[i].Length));
                    Assert.Equal(0, processes[i].LockedBytes);
                }
                var zone = registry.GetZone(0).LockedMemory;
                Assert.True(zone.PeakUsage <= (ulong)(s.ZoneLimitPages * page), $"zone peaked at {zone.PeakUsage} over {zone.Limit}");
                Assert.Equal(0UL, zone.Usage);
            }
            finally
            {
                foreach (var p in processes) p.Dispose();
            }
        }, iter: 40, threads: 1);
        Assert.True(denied > 0, "the limits never denied: the test did not exercise the limit");
    }

    [Fact]
    public void TheChargePathAloneNeverOvershootsUnderContention()
    {
        // Many more iterations than the lock test can afford: charge and uncharge only.
        Gen.Select(Gen.Int[1, 64], Gen.Int[1, 64], Gen.Int[1, 16].Array[256].Array[Threads]).Sample((projectLimit, zoneLimit, sizes) =>
        {
            var registry = new ResourceControlRegistry(
                ProjectDatabase.Parse($"a:1::::project.max-locked-memory=(privileged,{projectLimit},deny)\nb:2::::project.max-locked-memory=(privileged,{projectLimit},deny)\n", "p"),
                ZoneDatabase.Parse($"global:0::zone.max-locked-memory=(privileged,{zoneLimit},deny)\n", "z"), UserDatabase.Load());
            var zone = registry.GetZone(0);
            Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
            {
                var project = registry.GetProject(1 + (t & 1));
                var held = new List<LockedMemoryCharge>();
                foreach (int size in sizes[t])
                {
                    if (registry.TryChargeLockedMemory(project, zone, 1, (ulong)size, out var c) == Errno.None) held.Add(c);
                    if (held.Count > 3)
                    {
                        ResourceControlRegistry.UnchargeLockedMemory(held[0]);
                        held.RemoveAt(0);
                    }
                }
                foreach (var c in held) ResourceControlRegistry.UnchargeLockedMemory(c);
            });
            foreach (var e in new[] { registry.GetProject(1), registry.GetProject(2) })
            {
                Assert.True(e.LockedMemory.PeakUsage <= (ulong)projectLimit);
                Assert.Equal(0UL, e.LockedMemory.Usage);
            }
            Assert.True(zone.LockedMemory.PeakUsage <= (ulong)zoneLimit);
            Assert.Equal(0UL, zone.LockedMemory.Usage);
        }, iter: 300, threads: 1);
    }
}
