using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// The budget and its waiters. The host gives drivers <see cref="UmemAllocatorOptions.MaxBytes"/> in all,
/// <see cref="UmemAllocatorOptions.MaxLockedBytes"/> locked, and <see cref="UmemAllocatorOptions.MaxFds"/> and
/// <see cref="UmemAllocatorOptions.MaxMappings"/> memfds (each memfd is one fd and one mapping in the host). A
/// request is charged before any memory is made, so the OS is never asked for what the budget cannot hold, and
/// uncharged only after its memory is gone. DDI_UMEM_NOSLEEP fails at once; DDI_UMEM_SLEEP waits in strict
/// arrival order: while anyone waits, no newcomer is charged, and a head that does not fit blocks those behind
/// it, so a stream of small requests cannot starve a large one.
/// </summary>
public sealed partial class UmemAllocator
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();

    // Guarded by _gate (the generation is also read without it, as a hint).
    private long _pageableBytes, _lockedBytes, _pageableCount, _lockedCount, _memfds;
    private long _peakBytes, _peakPageableBytes, _peakLockedBytes, _peakMemfds;
    private long _releaseGeneration;
    private long _lastTicket;
    private int _retrying;
    private bool _disposed;

    private static readonly List<Waiter> s_none = [];

    /// <summary>
    /// Charges the budget (true, no waiter), queues a waiter (true; charged when it completes), or refuses:
    /// throws ENOMEM, or returns false when <paramref name="throwOnRefusal"/> is false. Gives the caller its
    /// arrival number.
    /// </summary>
    private bool Admit(in Request req, ref Ticket ticket, bool throwOnRefusal, out Waiter? waiter)
    {
        waiter = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (NeverFits(req) is { } never)
            {
                // It could never be served, so even DDI_UMEM_SLEEP fails at once rather than sleep forever.
                return throwOnRefusal
                    ? throw new ErrnoException(Errno.ENOMEM, $"ddi_umem_alloc({req.Bytes}, {Describe(req)})", never)
                    : false;
            }
            ticket = new Ticket(++_lastTicket, 0);
            if (_waiters.Count == 0 && _retrying == 0 && Fits(req))
            {
                Charge(req);
                return true;
            }
            if (req.NoSleep)
            {
                return throwOnRefusal
                    ? throw new ErrnoException(Errno.ENOMEM, $"ddi_umem_alloc({req.Bytes}, {Describe(req)})",
                        _waiters.Count == 0 && _retrying == 0 ? $"the budget is exhausted ({Exhausted(req)})" : "the budget is exhausted or promised to earlier waiters")
                    : false;
            }
            waiter = new Waiter(this, req, ticket.Number, minGeneration: -1);
            waiter.Node = _waiters.AddLast(waiter); // the newest ticket: the end of the line
        }
        return true;
    }

    /// <summary>
    /// The OS refused a sleeping caller's memory: gives its charge back and puts it back in line at the place its
    /// arrival number gives it, to be served again after a release newer than <paramref name="generation"/>, or
    /// after a back-off (memory may come back without any release of ours: another process exits). Those behind
    /// it keep waiting, as for a head that does not fit the budget.
    /// </summary>
    private Waiter Requeue(in Request req, ref Ticket ticket, long generation)
    {
        bool wasRetry = ticket.Refusals > 0;
        ticket = ticket with { Refusals = ticket.Refusals + 1 };
        var waiter = new Waiter(this, req, ticket.Number, generation);
        List<Waiter> granted;
        bool disposed;
        lock (_gate)
        {
            UnchargeCounts(req);
            if (wasRetry) _retrying--;
            disposed = _disposed;
            if (!disposed)
            {
                LinkedListNode<Waiter>? after = _waiters.First;
                while (after is not null && after.Value.Number < ticket.Number) after = after.Next;
                waiter.Node = after is null ? _waiters.AddLast(waiter) : _waiters.AddBefore(after, waiter);
            }
            granted = Pump();
        }
        Complete(granted);
        if (disposed)
            waiter.Completion.TrySetException(new ObjectDisposedException(nameof(UmemAllocator), "the allocator was disposed while the allocation waited"));
        else
            waiter.StartBackoff((int)Math.Min(1000, 10L << Math.Min(ticket.Refusals - 1, 7))); // 10 ms, doubling to 1 s
        return waiter;
    }

    private static async ValueTask WaitAsync(Waiter waiter, CancellationToken ct)
    {
        if (!ct.CanBeCanceled)
        {
            await waiter.Completion.Task.ConfigureAwait(false);
            return;
        }
        using (ct.UnsafeRegister(static (s, token) => ((Waiter)s!).Cancel(token), waiter))
            await waiter.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Removes a waiter that has not been served yet; those behind it may now go.</summary>
    private void Cancel(Waiter waiter, CancellationToken token)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            if (waiter.Node is null) return; // already served (and charged), or disposed: the wait ends on its own
            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            granted = Pump();
        }
        waiter.Completion.TrySetCanceled(token);
        Complete(granted);
    }

    /// <summary>The back-off after an OS refusal ran out: the waiter may try again without a release.</summary>
    private void EndBackoff(Waiter waiter)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            if (waiter.Node is null) return;
            waiter.MinGeneration = -1;
            granted = Pump();
        }
        Complete(granted);
    }

    /// <summary>Gives a charge back and serves the waiters that now fit (the caller completes them, outside the lock).</summary>
    /// <param name="req">The charge.</param>
    /// <param name="released">True when memory went back to the OS or the cache (not just a failed attempt's charge).</param>
    /// <param name="endRetry">The charge was a retry after an OS refusal, which held up the line until now.</param>
    private List<Waiter> Uncharge(in Request req, bool released, bool endRetry = false)
    {
        lock (_gate)
        {
            UnchargeCounts(req);
            if (endRetry) _retrying--;
            if (released) _releaseGeneration++;
            return _waiters.Count == 0 ? s_none : Pump();
        }
    }

    /// <summary>A retry after an OS refusal got its memory: the line may move again.</summary>
    private List<Waiter> EndRetry()
    {
        lock (_gate)
        {
            _retrying--;
            return _waiters.Count == 0 ? s_none : Pump();
        }
    }

    private void UnchargeCounts(in Request req)
    {
        _memfds -= req.Units;
        if (req.Locked)
        {
            _lockedBytes -= req.Bytes;
            _lockedCount--;
        }
        else
        {
            _pageableBytes -= req.Bytes;
            _pageableCount--;
        }
    }

    /// <summary>
    /// Serves waiters from the head while they fit; strict FIFO, so the head blocks those behind it. A retry after
    /// an OS refusal is served alone: until the OS answers it, nobody behind it (or new) is served.
    /// </summary>
    private List<Waiter> Pump()
    {
        List<Waiter>? granted = null;
        while (_retrying == 0 && _waiters.First is { } node)
        {
            Waiter w = node.Value;
            if (_releaseGeneration <= w.MinGeneration || !Fits(w.Request)) break;
            _waiters.RemoveFirst();
            w.Node = null;
            Charge(w.Request);
            if (w.IsRetry) _retrying++;
            (granted ??= []).Add(w);
        }
        return granted ?? s_none;
    }

    /// <summary>Wakes served waiters, outside the lock (their continuations run elsewhere).</summary>
    private static void Complete(List<Waiter> granted)
    {
        foreach (var w in granted) w.Completion.TrySetResult();
    }

    /// <summary>Why the request could never be served, or null when it could.</summary>
    private string? NeverFits(in Request r)
    {
        if (r.Bytes > _options.MaxBytes) return $"larger than the host's budget of {_options.MaxBytes} bytes";
        if (r.Locked && r.Bytes > _options.MaxLockedBytes) return $"larger than the host's budget of {_options.MaxLockedBytes} locked bytes";
        long memfds = MemfdLimit;
        return r.Units > memfds
            ? $"needs {r.Units} memfds of {r.GrantBytes} bytes, more than the host's budget of {memfds} (MaxFds {_options.MaxFds}, MaxMappings {_options.MaxMappings}); ask for larger grant units"
            : null;
    }

    /// <summary>Which part of the budget a request does not fit now (for the NOSLEEP error).</summary>
    private string Exhausted(in Request r) =>
        _memfds > MemfdLimit - r.Units
            ? $"{_memfds} of {MemfdLimit} memfds in use, {r.Units} wanted"
            : $"{_pageableBytes + _lockedBytes} of {_options.MaxBytes} bytes in use, {_lockedBytes} of {_options.MaxLockedBytes} locked";

    /// <summary>Each memfd is an fd and a mapping of the host: the smaller limit holds.</summary>
    private long MemfdLimit => Math.Min(_options.MaxFds, _options.MaxMappings);

    private bool Fits(in Request r) =>
        _pageableBytes + _lockedBytes <= _options.MaxBytes - r.Bytes
        && (!r.Locked || _lockedBytes <= _options.MaxLockedBytes - r.Bytes)
        && _memfds <= MemfdLimit - r.Units;

    private void Charge(in Request r)
    {
        _memfds += r.Units;
        _peakMemfds = Math.Max(_peakMemfds, _memfds);
        if (r.Locked)
        {
            _lockedBytes += r.Bytes;
            _lockedCount++;
            _peakLockedBytes = Math.Max(_peakLockedBytes, _lockedBytes);
        }
        else
        {
            _pageableBytes += r.Bytes;
            _pageableCount++;
            _peakPageableBytes = Math.Max(_peakPageableBytes, _pageableBytes);
        }
        _peakBytes = Math.Max(_peakBytes, _pageableBytes + _lockedBytes);
    }

    private static string Describe(in Request r) =>
        (r.NoSleep ? "DDI_UMEM_NOSLEEP" : "DDI_UMEM_SLEEP") + (r.Locked ? "" : "|DDI_UMEM_PAGEABLE");

    /// <summary>A DDI_UMEM_SLEEP caller in line. Its completion is set once: served (charged), cancelled, or disposed.</summary>
    private sealed class Waiter(UmemAllocator owner, Request request, long number, long minGeneration) : IDisposable
    {
        private Timer? _backoff;

        public Request Request { get; } = request;

        /// <summary>The arrival number: the line is kept in this order.</summary>
        public long Number { get; } = number;

        /// <summary>Back in line after an OS refusal.</summary>
        public bool IsRetry { get; } = minGeneration >= 0;

        /// <summary>Served only after a release newer than this (set when the OS, not the budget, refused). Under _gate.</summary>
        public long MinGeneration { get; set; } = minGeneration;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its place in line; null once out of it. Under _gate.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }

        public void Cancel(CancellationToken token) => owner.Cancel(this, token);

        public void StartBackoff(int milliseconds) =>
            _backoff = new Timer(static s => ((Waiter)s!).EndBackoff(), this, milliseconds, Timeout.Infinite);

        private void EndBackoff() => owner.EndBackoff(this);

        /// <summary>Stops the back-off timer, if any; called by the waiting caller once its wait is over.</summary>
        public void Dispose() => _backoff?.Dispose();
    }
}
