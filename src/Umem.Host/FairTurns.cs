using System.Diagnostics;

namespace Umem.Host;

/// <summary>
/// Turns at a costly step, taken round robin by uid: at most <c>capacity</c> callers are in the step at once, and
/// when more wait, each uid that waits gets the next turn in its order, whatever the number of its own waiters. A
/// flood of connections from one user so queues behind itself, not in front of everyone else: without it, the
/// thread pool's FIFO had a bystander's connection identified after the flood's 64 (its connect + HELLO + OPEN
/// went from 0.3 to 14 ms at p99; docs/reliability.md). The waiters are bounded by the per-uid connection limit.
/// A turn held longer than <c>stall</c> (a step stuck in the kernel, e.g. on a stalled FUSE file) stops counting:
/// its place goes to the next waiter, so stuck callers cannot close the step to everyone else.
/// </summary>
internal sealed class FairTurns : IDisposable
{
    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly long _stallTicks;
    private readonly TimeSpan _stall;
    private readonly Dictionary<uint, Queue<Waiter>> _waiting = [];
    private readonly Queue<uint> _order = []; // uids with waiters, in the order of their next turn
    private readonly Dictionary<long, long> _inside = []; // ticket -> when its turn began (Stopwatch ticks)
    private readonly Timer _stallTimer;
    private long _nextTicket;
    private bool _timerArmed;

    private readonly record struct Waiter(long Ticket, TaskCompletionSource<long> Turn);

    internal FairTurns(int capacity, TimeSpan stall)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _stall = stall;
        _stallTicks = (long)(stall.TotalSeconds * Stopwatch.Frequency);
        _stallTimer = new Timer(static s => ((FairTurns)s!).OnStallTimer(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Turns that count now (tests).</summary>
    internal int Inside
    {
        get
        {
            lock (_gate) return _inside.Count;
        }
    }

    /// <summary>Completes with a ticket when <paramref name="uid"/>'s caller may enter; it must then call <see cref="Leave"/> with it once.</summary>
    internal Task<long> EnterAsync(uint uid)
    {
        lock (_gate)
        {
            long ticket = ++_nextTicket;
            if (_inside.Count < _capacity && _order.Count == 0)
            {
                _inside.Add(ticket, Stopwatch.GetTimestamp());
                return Task.FromResult(ticket);
            }
            if (!_waiting.TryGetValue(uid, out var queue)) _waiting[uid] = queue = new Queue<Waiter>();
            if (queue.Count == 0) _order.Enqueue(uid);
            // The next waiter runs on the pool, not inside the Leave that admits it (no chain of nested turns).
            var turn = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Enqueue(new Waiter(ticket, turn));
            ArmStallTimer();
            return turn.Task;
        }
    }

    /// <summary>Ends the turn of <paramref name="ticket"/>: its place goes to the next uid in order that waits, or is freed.</summary>
    internal void Leave(long ticket)
    {
        TaskCompletionSource<long>? next;
        long nextTicket;
        lock (_gate)
        {
            // A turn that stalled was already given up; its late end frees nothing.
            if (!_inside.Remove(ticket)) return;
            next = AdmitNext(out nextTicket);
        }
        next?.SetResult(nextTicket);
    }

    public void Dispose() => _stallTimer.Dispose();

    private TaskCompletionSource<long>? AdmitNext(out long ticket)
    {
        ticket = 0;
        if (!_order.TryDequeue(out uint uid)) return null;
        var queue = _waiting[uid];
        var w = queue.Dequeue();
        if (queue.Count > 0) _order.Enqueue(uid);
        else _waiting.Remove(uid);
        _inside.Add(w.Ticket, Stopwatch.GetTimestamp());
        ticket = w.Ticket;
        return w.Turn;
    }

    private void ArmStallTimer()
    {
        if (_timerArmed || _inside.Count == 0) return;
        long oldest = _inside.Values.Min();
        var due = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), oldest + _stallTicks);
        _timerArmed = true;
        _stallTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnStallTimer()
    {
        var admitted = new List<(TaskCompletionSource<long> Turn, long Ticket)>();
        lock (_gate)
        {
            _timerArmed = false;
            long now = Stopwatch.GetTimestamp();
            foreach (var (ticket, since) in _inside.ToArray())
            {
                if (now - since < _stallTicks || _order.Count == 0) continue;
                _inside.Remove(ticket); // stalled: its place goes on
                if (AdmitNext(out long t) is { } next) admitted.Add((next, t));
            }
            if (_order.Count > 0) ArmStallTimer();
        }
        foreach (var (turn, ticket) in admitted) turn.SetResult(ticket);
    }

    public override string ToString() => $"{_capacity} turns, stall {_stall.TotalMilliseconds} ms";
}
