namespace Umem.Host;

/// <summary>
/// Turns at a costly step, taken round robin by uid: at most <c>capacity</c> callers are in the step at once, and
/// when more wait, each uid that waits gets the next turn in its order, whatever the number of its own waiters. A
/// flood of connections from one user so queues behind itself, not in front of everyone else: without it, the
/// thread pool's FIFO had a bystander's connection identified after the flood's 64 (its connect + HELLO + OPEN
/// went from 0.3 to 14 ms at p99; docs/reliability.md). The waiters are bounded by the per-uid connection limit.
/// </summary>
internal sealed class FairTurns(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, Queue<TaskCompletionSource>> _waiting = [];
    private readonly Queue<uint> _order = []; // uids with waiters, in the order of their next turn
    private int _inside;

    /// <summary>Callers in the step now (tests).</summary>
    internal int Inside
    {
        get
        {
            lock (_gate) return _inside;
        }
    }

    /// <summary>Completes when <paramref name="uid"/>'s caller may enter; it must then call <see cref="Leave"/> once.</summary>
    internal Task EnterAsync(uint uid)
    {
        lock (_gate)
        {
            if (_inside < capacity && _order.Count == 0)
            {
                _inside++;
                return Task.CompletedTask;
            }
            if (!_waiting.TryGetValue(uid, out var queue)) _waiting[uid] = queue = new Queue<TaskCompletionSource>();
            if (queue.Count == 0) _order.Enqueue(uid);
            // The next waiter runs on the pool, not inside the Leave that admits it (no chain of nested turns).
            var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Enqueue(turn);
            return turn.Task;
        }
    }

    /// <summary>Ends a turn: the place goes to the next uid in order that waits, or is freed.</summary>
    internal void Leave()
    {
        TaskCompletionSource? next = null;
        lock (_gate)
        {
            if (_order.TryDequeue(out uint uid))
            {
                var queue = _waiting[uid];
                next = queue.Dequeue();
                if (queue.Count > 0) _order.Enqueue(uid);
                else _waiting.Remove(uid);
            }
            else
            {
                _inside--;
            }
        }
        next?.SetResult();
    }
}
