using CsCheck;
using Umem.Host;

namespace Umem.Tests.Host;

/// <summary>The host's round-robin turns at identifying connections (<see cref="FairTurns"/>).</summary>
public sealed class FairTurnsTests
{
    [Fact]
    public void AFloodOfOneUidQueuesBehindItselfNotInFrontOfOthers()
    {
        var turns = new FairTurns(capacity: 1);
        Assert.True(turns.EnterAsync(7).IsCompleted); // the flood's first connection is being identified
        var flood = Enumerable.Range(0, 3).Select(_ => turns.EnterAsync(7)).ToArray();
        var bystander = turns.EnterAsync(0);
        var third = turns.EnterAsync(9);
        Assert.All(flood.Append(bystander).Append(third), t => Assert.False(t.IsCompleted));

        turns.Leave();
        Assert.True(flood[0].IsCompleted); // uid 7 was waiting first
        Assert.False(bystander.IsCompleted);
        turns.Leave();
        Assert.True(bystander.IsCompleted); // then each other uid once, before uid 7's second
        Assert.False(flood[1].IsCompleted);
        turns.Leave();
        Assert.True(third.IsCompleted);
        turns.Leave();
        Assert.True(flood[1].IsCompleted);
        turns.Leave();
        Assert.True(flood[2].IsCompleted);
        Assert.Equal(1, turns.Inside);
        turns.Leave();
        Assert.Equal(0, turns.Inside);
        Assert.True(turns.EnterAsync(7).IsCompleted); // free again: no waiting
    }

    private sealed record Op(bool Enter, uint Uid);

    private sealed class Waiter(uint uid, Task turn, HashSet<uint>? ahead)
    {
        public uint Uid { get; } = uid;
        public Task Turn { get; } = turn;
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
            var turns = new FairTurns(capacity);
            var waiting = new List<Waiter>();
            int inside = 0;
            void Observe()
            {
                foreach (var w in waiting.Where(w => w.Turn.IsCompleted).ToList())
                {
                    waiting.Remove(w);
                    inside++;
                    foreach (var other in waiting) other.SeenEnter[w.Uid] = other.SeenEnter.GetValueOrDefault(w.Uid) + 1;
                }
                // A uid's only waiter sees each uid that was waiting when it came get in at most once before it, and
                // a uid that came later never.
                foreach (var w in waiting.Where(w => w.Ahead is not null))
                    foreach (var (uid, n) in w.SeenEnter)
                        if (n > (w.Ahead!.Contains(uid) ? 1 : 0))
                            throw new InvalidOperationException($"uid {uid} got in {n} times while uid {w.Uid} waited");
                if (turns.Inside != inside || inside > capacity)
                    throw new InvalidOperationException($"{turns.Inside} inside (model {inside}), capacity {capacity}");
            }
            foreach (var op in sequence)
            {
                if (op.Enter)
                {
                    var ahead = waiting.Select(w => w.Uid).ToHashSet();
                    var t = turns.EnterAsync(op.Uid);
                    if (t.IsCompleted) inside++;
                    else waiting.Add(new Waiter(op.Uid, t, ahead.Contains(op.Uid) ? null : ahead));
                }
                else if (inside > 0)
                {
                    inside--;
                    turns.Leave();
                }
                Observe();
            }
            while (inside > 0) // everyone gets in, in turn
            {
                inside--;
                turns.Leave();
                Observe();
            }
            Assert.Empty(waiting);
            Assert.Equal(0, turns.Inside);
        }, iter: 2000);
    }
}
