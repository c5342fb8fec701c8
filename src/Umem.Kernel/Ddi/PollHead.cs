namespace Umem.Kernel.Ddi;

/// <summary>
/// A pollhead (<c>struct pollhead</c>): what a driver returns from chpoll(9E) when nothing is ready, and wakes
/// with pollwakeup(9F) when events happen. The host (or any requester) subscribes to be told.
/// </summary>
public sealed class PollHead
{
    private readonly Lock _gate = new();
    private readonly List<Action<PollEvents>> _subscribers = [];

    /// <summary>pollwakeup(9F): tells every subscriber that <paramref name="events"/> happened.</summary>
    public void Wakeup(PollEvents events)
    {
        Action<PollEvents>[] now;
        lock (_gate) now = [.. _subscribers];
        foreach (var s in now) s(events);
    }

    /// <summary>Calls <paramref name="onWakeup"/> on every wakeup until the returned object is disposed.</summary>
    public IDisposable Subscribe(Action<PollEvents> onWakeup)
    {
        ArgumentNullException.ThrowIfNull(onWakeup);
        lock (_gate) _subscribers.Add(onWakeup);
        return new Subscription(this, onWakeup);
    }

    /// <summary>Subscribers now (for tests).</summary>
    internal int SubscriberCount
    {
        get
        {
            lock (_gate) return _subscribers.Count;
        }
    }

    private sealed class Subscription(PollHead head, Action<PollEvents> callback) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (head._gate) head._subscribers.Remove(callback);
        }
    }
}
