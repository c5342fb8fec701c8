using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Umem.Platform;

/// <summary>
/// Readiness of many sockets from one epoll thread, one-shot: a socket is watched only while someone awaits it,
/// so a server that is busy reading a socket itself is not woken a second time for every message (as the
/// runtime's always-armed, edge-triggered socket engine is). Continuations run on the thread pool.
/// </summary>
public sealed class EpollReadiness : IDisposable
{
    private const int PollIntervalMs = 200;
    private readonly SafeFd _epoll;
    private readonly Dictionary<ulong, Registration> _registrations = [];
    private readonly Lock _gate = new();
    private readonly Thread _thread;
    private ulong _lastId;
    private volatile bool _disposed;

    /// <summary>Creates the epoll instance and starts its thread.</summary>
    public EpollReadiness()
    {
        int fd = Interop.epoll_create1(Interop.EPOLL_CLOEXEC);
        if (fd < 0) throw new ErrnoException(Interop.LastErrno, "epoll_create1(EPOLL_CLOEXEC)");
        _epoll = new SafeFd(fd);
        _thread = new Thread(Run) { IsBackground = true, Name = "umem epoll" };
        _thread.Start();
    }

    /// <summary>Watches <paramref name="socket"/>; dispose the registration before closing the socket.</summary>
    public Registration Register(SafeHandle socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            var r = new Registration(this, socket, ++_lastId);
            _registrations.Add(r.Id, r);
            return r;
        }
    }

    /// <summary>Stops the thread (within a poll interval); registrations still waiting never complete.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private unsafe void Run()
    {
        const int Max = 64;
        var events = stackalloc Interop.epoll_event[Max];
        bool added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);
            int epfd = _epoll.Fd;
            while (!_disposed)
            {
                int n = Interop.epoll_wait(epfd, events, Max, PollIntervalMs);
                for (int i = 0; i < n; i++)
                {
                    Registration? r;
                    lock (_gate) _registrations.TryGetValue(events[i].data, out r);
                    r?.Signal();
                }
            }
        }
        finally
        {
            if (added) _epoll.DangerousRelease();
            _epoll.Dispose();
        }
    }

    /// <summary>One watched socket: await <see cref="WaitAsync()"/> for each wait (one at a time); no allocation per wait.</summary>
    public sealed class Registration : IValueTaskSource, IDisposable
    {
        private readonly EpollReadiness _owner;
        private readonly SafeHandle _socket;
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private bool _added;

        internal Registration(EpollReadiness owner, SafeHandle socket, ulong id)
        {
            _owner = owner;
            _socket = socket;
            Id = id;
        }

        internal ulong Id { get; }

        /// <summary>Completes once the socket is readable, or has hung up or failed.</summary>
        public ValueTask WaitAsync() => WaitAsync(writable: false);

        /// <summary>
        /// Completes once the socket is writable (<paramref name="writable"/>: there is room for a message again,
        /// or it failed) instead of readable; one-shot like <see cref="WaitAsync()"/>.
        /// </summary>
        public unsafe ValueTask WaitAsync(bool writable)
        {
            _core.Reset();
            bool refAdded = false;
            try
            {
                _socket.DangerousAddRef(ref refAdded);
                var ev = new Interop.epoll_event
                {
                    events = (writable ? Interop.EPOLLOUT : Interop.EPOLLIN | Interop.EPOLLRDHUP) | Interop.EPOLLONESHOT,
                    data = Id,
                };
                int fd = (int)_socket.DangerousGetHandle();
                int op = _added ? Interop.EPOLL_CTL_MOD : Interop.EPOLL_CTL_ADD;
                if (Interop.epoll_ctl(_owner._epoll.Fd, op, fd, &ev) < 0)
                    throw new ErrnoException(Interop.LastErrno, $"epoll_ctl({(_added ? "MOD" : "ADD")}, fd {fd})");
                _added = true;
            }
            finally
            {
                if (refAdded) _socket.DangerousRelease();
            }
            return new ValueTask(this, _core.Version);
        }

        internal void Signal() => _core.SetResult(true);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        /// <summary>Stops watching (EPOLL_CTL_DEL); the socket may then be closed.</summary>
        public unsafe void Dispose()
        {
            lock (_owner._gate) _owner._registrations.Remove(Id);
            if (!_added || _socket.IsClosed) return;
            bool refAdded = false;
            try
            {
                _socket.DangerousAddRef(ref refAdded);
                _ = Interop.epoll_ctl(_owner._epoll.Fd, Interop.EPOLL_CTL_DEL, (int)_socket.DangerousGetHandle(), null);
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile: the kernel dropped it from the epoll set.
            }
            finally
            {
                if (refAdded) _socket.DangerousRelease();
            }
        }
    }
}
