using CsCheck;
using Umem.Host;

namespace Umem.Tests.Host;

/// <summary>The host's round-robin turns at identifying connections (<see cref="FairTurns"/>).</summary>
public sealed class FairTurnsTests
{
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    [Fact]
    public async Task AFloodOfOneUidQueuesBehindItselfNotInFrontOfOthers()
    {
        using var turns = new FairTurns(capacity: 1, Never);
        var first = turns.EnterAsync(7); // the flood's first connection is being identified
        Assert.True(first.IsCompleted);
        var flood = Enumerable.Range(0, 3).Select(_ => turns.EnterAsync(7)).ToArray();
        var bystander = turns.EnterAsync(0);
        var third = turns.EnterAsync(9);
        Assert.All(flood.Append(bystander).Append(third), t => Assert.False(t.IsCompleted));

        turns.Leave(await first);
        Assert.True(flood[0].IsCompleted); // uid 7 was waiting first
        Assert.False(bystander.IsCompleted);
        turns.Leave(await flood[0]);
        Assert.True(bystander.IsCompleted); // then each other uid once, before uid 7's second
        Assert.False(flood[1].IsCompleted);
        turns.Leave(await bystander);
        Assert.True(third.IsCompleted);
        turns.Leave(await third);
        Assert.True(flood[1].IsCompleted);
        turns.Leave(await flood[1]);
        Assert.True(flood[2].IsCompleted);
        Assert.Equal(1, turns.Inside);
        turns.Leave(await flood[2]);
        turns.Leave(await flood[2]); // a second end of the same turn frees nothing more
        Assert.Equal(0, turns.Inside);
        Assert.True(turns.EnterAsync(7).IsCompleted); // free again: no waiting
    }

    [Fact]
    public async Task AStuckTurnStopsCountingAndItsPlaceGoesOn()
    {
        // Two turns stuck (identification blocked in the kernel): the next uid's caller still gets in, once they
        // have held their turns for the stall time, and their late ends free nothing twice.
        using var turns = new FairTurns(capacity: 2, TimeSpan.FromMilliseconds(50));
        var stuck = new[] { turns.EnterAsync(7), turns.EnterAsync(7) };
        var bystander = turns.EnterAsync(0);
        Assert.False(bystander.IsCompleted);
        await bystander.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); // a guard, not a timing
        Assert.Equal(2, turns.Inside); // the bystander, and one stuck turn: a turn gives way only to a waiter
        foreach (var t in stuck) turns.Leave(await t);
        Assert.Equal(1, turns.Inside); // the given-up one's late end freed nothing
        turns.Leave(await bystander);
        Assert.Equal(0, turns.Inside);
    }

    private sealed record Op(bool Enter, uint Uid);

    private sealed class Waiter(uint uid, Task<long> turn, HashSet<uint>? ahead)
    {
        public uint Uid { get; } = uid;
        public Task<long> Turn { get; } = turn;
        // The uids waiting when it came, if it was its uid's only waiter (null otherwise: its place is its uid's).
        public HashSet<uint>? Ahead { get; } = ahead;
        public Dictionary<uint, int> SeenEnter { get; } = [];
    }

    [Fact]
    public void NeverMoreInsideThanCapacityEveryoneGetsInAndNoUidPassesAnotherTwice()
    {
        var ops = Gen.Select(Gen.Bool, Gen.UInt[0, 3], (e, u) => new Op(e, u)).Array[1, 80];
        Gen.Select(Gen.Int[1, 3], ops).Sample((capacity, sequence) =>
        {
            using var turns = new FairTurns(capacity, Never);
            var waiting = new List<Waiter>();
            var inside = new List<long>(); // tickets in their turn
            void Observe()
            {
                foreach (var w in waiting.Where(w => w.Turn.IsCompleted).ToList())
                {
                    waiting.Remove(w);
                    inside.Add(w.Turn.Result);
                    foreach (var other in waiting) other.SeenEnter[w.Uid] = other.SeenEnter.GetValueOrDefault(w.Uid) + 1;
                }
                // A uid's only waiter sees each uid that was waiting when it came get in at most once before it, and
                // a uid that came later never.
                foreach (var w in waiting.Where(w => w.Ahead is not null))
                    foreach (var (uid, n) in w.SeenEnter)
                        if (n > (w.Ahead!.Contains(uid) ? 1 : 0))
                            throw new InvalidOperationException($"uid {uid} got in {n} times while uid {w.Uid} waited");
                if (turns.Inside != inside.Count || inside.Count > capacity)
                    throw new InvalidOperationException($"{turns.Inside} inside (model {inside.Count}), capacity {capacity}");
            }
            foreach (var op in sequence)
            {
                if (op.Enter)
                {
                    var ahead = waiting.Select(w => w.Uid).ToHashSet();
                    var t = turns.EnterAsync(op.Uid);
                    if (t.IsCompleted) inside.Add(t.Result);
                    else waiting.Add(new Waiter(op.Uid, t, ahead.Contains(op.Uid) ? null : ahead));
                }
                else if (inside.Count > 0)
                {
                    // Turns end in any order.
                    long ticket = inside[(int)(op.Uid % (uint)inside.Count)];
                    inside.Remove(ticket);
                    turns.Leave(ticket);
                }
                Observe();
            }
            while (inside.Count > 0) // everyone gets in, in turn
            {
                long ticket = inside[0];
                inside.RemoveAt(0);
                turns.Leave(ticket);
                Observe();
            }
            Assert.Empty(waiting);
            Assert.Equal(0, turns.Inside);
        }, iter: 2000);
    }
}
