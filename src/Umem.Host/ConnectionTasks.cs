namespace Umem.Host;

/// <summary>
/// The connections a listener is serving and the task serving each: started registered (so ending them all, racing
/// with an accept, still sees the new one), removed when they end, none started once closed. The device host's
/// and the admin socket's connections are kept this way.
/// </summary>
internal sealed class ConnectionTasks<T>
    where T : notnull
{
    private readonly Lock _gate = new();
    private readonly Dictionary<T, Task> _running = [];
    private bool _closed;

    /// <summary>Connections being served now.</summary>
    internal int Count
    {
        get
        {
            lock (_gate) return _running.Count;
        }
    }

    /// <summary>The connections being served now.</summary>
    internal List<T> Items
    {
        get
        {
            lock (_gate) return [.. _running.Keys];
        }
    }

    /// <summary>
    /// Serves <paramref name="connection"/> with <paramref name="run"/> on the thread pool; <paramref name="ended"/>
    /// runs after it is removed. False, nothing started, once <see cref="Close"/> was called.
    /// </summary>
    internal bool TryStart(T connection, Func<Task> run, Action? ended = null)
    {
        lock (_gate)
        {
            if (_closed) return false;
            _running.Add(connection, Task.CompletedTask);
            _running[connection] = Task.Run(async () =>
            {
                try
                {
                    await run().ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate) _running.Remove(connection);
                    ended?.Invoke();
                }
            });
            return true;
        }
    }

    /// <summary>Calls <paramref name="shutdown"/> on every connection <paramref name="which"/> picks; completes when each has ended.</summary>
    internal Task EndAsync(Func<T, bool> which, Action<T> shutdown)
    {
        List<Task> tasks = [];
        lock (_gate)
        {
            foreach (var (connection, task) in _running)
            {
                if (!which(connection)) continue;
                shutdown(connection);
                tasks.Add(task);
            }
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>Starts no more connections.</summary>
    internal void Close()
    {
        lock (_gate) _closed = true;
    }
}
