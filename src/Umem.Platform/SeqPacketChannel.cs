using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Umem.Platform;

/// <summary>The credentials of the process at the other end of a Unix socket, from SO_PEERCRED.</summary>
/// <param name="Pid">The peer's process id at connect time.</param>
/// <param name="Uid">The peer's effective uid at connect time.</param>
/// <param name="Gid">The peer's effective gid at connect time.</param>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid);

/// <summary>What one recvmsg returned.</summary>
/// <param name="Length">Bytes of the message placed in the buffer.</param>
/// <param name="Flags">msg_flags: MSG_TRUNC, MSG_CTRUNC.</param>
/// <param name="FdCount">File descriptors that arrived with the message (kept or closed).</param>
public readonly record struct ReceiveResult(int Length, int Flags, int FdCount)
{
    /// <summary>The peer closed the connection (or sent an empty message, which this protocol never does).</summary>
    public bool EndOfStream => Length == 0;

    /// <summary>The message was longer than the buffer (MSG_TRUNC): its end is lost.</summary>
    public bool Truncated => (Flags & Interop.MSG_TRUNC) != 0;

    /// <summary>More control data arrived than fits (MSG_CTRUNC): the kernel dropped fds.</summary>
    public bool ControlTruncated => (Flags & Interop.MSG_CTRUNC) != 0;
}

/// <summary>
/// One end of an AF_UNIX SOCK_SEQPACKET connection: one send is one message, one receive reads exactly one,
/// and file descriptors travel with a message as SCM_RIGHTS. .NET has no API for SCM_RIGHTS, so messages go
/// through sendmsg/recvmsg on the socket's handle (held with DangerousAddRef around each call); readiness
/// comes from a zero-byte <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/>,
/// which peeks and does not consume a record, so a server needs no thread per connection.
/// </summary>
/// <remarks>
/// Received fds arrive with close-on-exec set (MSG_CMSG_CLOEXEC) and are wrapped in <see cref="SafeFd"/> at once:
/// those the caller did not ask for are closed before the call returns, so nothing leaks.
/// </remarks>
public sealed class SeqPacketChannel : IDisposable
{
    /// <summary>Control buffer bytes: room for the kernel's maximum of 253 fds, so no fd is ever dropped silently.</summary>
    private static readonly int s_controlSpace = Interop.CMSG_SPACE(sizeof(int) * 253);

    private readonly SafeHandle _handle;
    private readonly Socket? _socket;

    /// <summary>Wraps a connected SEQPACKET <see cref="Socket"/> (accepted by a server); takes ownership.</summary>
    public SeqPacketChannel(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SocketType != SocketType.Seqpacket)
            throw new ArgumentException($"a SEQPACKET socket is needed, not {socket.SocketType}", nameof(socket));
        _socket = socket;
        _handle = socket.SafeHandle;
    }

    private SeqPacketChannel(SafeFd fd) => _handle = fd;

    /// <summary>
    /// Bounds how long <see cref="Send"/> waits for room when the peer does not read (ETIMEDOUT afterwards);
    /// -1 waits for ever.
    /// </summary>
    public int SendTimeoutMilliseconds { get; set; } = -1;

    /// <summary>The socket's handle (for credentials and tests).</summary>
    public SafeHandle Handle => _handle;

    /// <summary>socket(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC) and connect(2) to <paramref name="path"/>.</summary>
    public static unsafe SeqPacketChannel Connect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> addr = stackalloc byte[Interop.SizeofSockaddrUn];
        if (!Interop.TryFillSockaddrUn(addr, path, out int addrLength))
            throw new ErrnoException(Errno.ENAMETOOLONG, $"connect(\"{path}\")", "the path does not fit in sockaddr_un");
        int fd = Interop.socket(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new ErrnoException(Interop.LastErrno, "socket(AF_UNIX, SOCK_SEQPACKET)");
        var safe = new SafeFd(fd);
        fixed (byte* a = addr)
        {
            while (Interop.connect(fd, a, (uint)addrLength) < 0)
            {
                var errno = Interop.LastErrno;
                if (errno == Errno.EINTR) continue;
                safe.Dispose();
                throw new ErrnoException(errno, $"connect(\"{path}\")");
            }
        }
        return new SeqPacketChannel(safe);
    }

    /// <summary>socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC): two connected ends.</summary>
    public static unsafe (SeqPacketChannel First, SeqPacketChannel Second) CreatePair()
    {
        int* sv = stackalloc int[2];
        if (Interop.socketpair(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC, 0, sv) < 0)
            throw new ErrnoException(Interop.LastErrno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
        return (new SeqPacketChannel(new SafeFd(sv[0])), new SeqPacketChannel(new SafeFd(sv[1])));
    }

    /// <summary>SO_PEERCRED: who is at the other end (as the kernel recorded it at connect time).</summary>
    public unsafe PeerCredentials GetPeerCredentials()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            Interop.ucred cred;
            uint len = (uint)sizeof(Interop.ucred);
            if (Interop.getsockopt(Fd, Interop.SOL_SOCKET, Interop.SO_PEERCRED, &cred, &len) < 0)
                throw new ErrnoException(Interop.LastErrno, $"getsockopt(fd {Fd}, SOL_SOCKET, SO_PEERCRED)");
            return new PeerCredentials(cred.pid, cred.uid, cred.gid);
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Sends one message with <paramref name="fds"/> attached (SCM_RIGHTS; at most 253). Waits for room when
    /// the peer's queue is full. A peer that is gone gives EPIPE (MSG_NOSIGNAL: no SIGPIPE) or ECONNRESET.
    /// </summary>
    public void Send(ReadOnlySpan<byte> message, ReadOnlySpan<SafeFd> fds = default) => SendCore(message, fds, wait: true);

    /// <summary>
    /// Sends one message without waiting: false, and nothing sent, when the peer's queue has no room for it now
    /// (a peer that does not read). Errors as <see cref="Send"/>.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> message, ReadOnlySpan<SafeFd> fds = default) => SendCore(message, fds, wait: false);

    private unsafe bool SendCore(ReadOnlySpan<byte> message, ReadOnlySpan<SafeFd> fds, bool wait)
    {
        if (fds.Length > 253) throw new ArgumentOutOfRangeException(nameof(fds), fds.Length, "at most 253 fds fit in one SCM_RIGHTS message");
        byte* control = stackalloc byte[s_controlSpace];
        bool added = false;
        int fdsAdded = 0;
        try
        {
            _handle.DangerousAddRef(ref added);
            int controlLength = 0;
            if (fds.Length > 0)
            {
                controlLength = Interop.CMSG_SPACE(sizeof(int) * fds.Length);
                new Span<byte>(control, controlLength).Clear();
                var header = (Interop.cmsghdr*)control;
                header->cmsg_len = (nuint)Interop.CMSG_LEN(sizeof(int) * fds.Length);
                header->cmsg_level = Interop.SOL_SOCKET;
                header->cmsg_type = Interop.SCM_RIGHTS;
                int* data = (int*)(control + Interop.CMSG_HDRLEN);
                for (; fdsAdded < fds.Length; fdsAdded++)
                {
                    bool fdAdded = false;
                    fds[fdsAdded].DangerousAddRef(ref fdAdded); // throws ObjectDisposedException for a closed fd
                    data[fdsAdded] = (int)fds[fdsAdded].DangerousGetHandle();
                }
            }
            fixed (byte* p = message)
            {
                Interop.iovec iov = new() { iov_base = p, iov_len = (nuint)message.Length };
                Interop.msghdr msg = new()
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = controlLength == 0 ? null : control,
                    msg_controllen = (nuint)controlLength,
                };
                // A blocking socket of our own with no timeout: one sendmsg waits for room itself.
                int flags = Interop.MSG_NOSIGNAL | (wait && _socket is null && SendTimeoutMilliseconds < 0 ? 0 : Interop.MSG_DONTWAIT);
                while (true)
                {
                    nint sent = Interop.sendmsg(Fd, &msg, flags);
                    if (sent >= 0) return true;
                    var errno = Interop.LastErrno;
                    if (errno == Errno.EINTR) continue;
                    if (errno == Errno.EAGAIN)
                    {
                        if (!wait) return false;
                        Wait(Interop.POLLOUT, SendTimeoutMilliseconds, "sendmsg");
                        continue;
                    }
                    throw new ErrnoException(errno, $"sendmsg(fd {Fd}, {message.Length} bytes, {fds.Length} fds)");
                }
            }
        }
        finally
        {
            for (int i = 0; i < fdsAdded; i++) fds[i].DangerousRelease();
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Receives one message without waiting; false when none is queued (EAGAIN). Fds that arrive are added to
    /// <paramref name="fds"/>, or closed when it is null. A closed peer gives a result of length 0.
    /// </summary>
    public bool TryReceive(Span<byte> buffer, List<SafeFd>? fds, out ReceiveResult result) =>
        ReceiveCore(buffer, fds, Interop.MSG_DONTWAIT, out result);

    private unsafe bool ReceiveCore(Span<byte> buffer, List<SafeFd>? fds, int flags, out ReceiveResult result)
    {
        result = default;
        byte* control = stackalloc byte[s_controlSpace];
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (byte* p = buffer)
            {
                Interop.iovec iov = new() { iov_base = p, iov_len = (nuint)buffer.Length };
                Interop.msghdr msg;
                nint received;
                while (true)
                {
                    msg = new()
                    {
                        msg_iov = &iov,
                        msg_iovlen = 1,
                        msg_control = control,
                        msg_controllen = (nuint)s_controlSpace,
                    };
                    received = Interop.recvmsg(Fd, &msg, flags | Interop.MSG_CMSG_CLOEXEC);
                    if (received >= 0) break;
                    var errno = Interop.LastErrno;
                    if (errno == Errno.EINTR) continue;
                    if (errno == Errno.EAGAIN) return false;
                    throw new ErrnoException(errno, $"recvmsg(fd {Fd})");
                }
                int count = TakeFds(control, (int)msg.msg_controllen, fds);
                result = new ReceiveResult((int)received, msg.msg_flags, count);
                return true;
            }
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Receives the next two messages with one recvmmsg, waiting until both are there (a client that expects two
    /// replies wakes once instead of twice). Only for channels this class connected (blocking sockets). When the
    /// connection ends after the first, the second result is end of stream.
    /// </summary>
    public unsafe void ReceiveTwo(Span<byte> first, List<SafeFd>? firstFds, Span<byte> second, List<SafeFd>? secondFds,
        out ReceiveResult firstResult, out ReceiveResult secondResult)
    {
        if (_socket is not null) throw new InvalidOperationException("ReceiveTwo needs a blocking channel made by Connect or CreatePair");
        byte* control1 = stackalloc byte[s_controlSpace];
        byte* control2 = stackalloc byte[s_controlSpace];
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (byte* p1 = first)
            fixed (byte* p2 = second)
            {
                var iov = stackalloc Interop.iovec[2];
                iov[0] = new() { iov_base = p1, iov_len = (nuint)first.Length };
                iov[1] = new() { iov_base = p2, iov_len = (nuint)second.Length };
                var msgs = stackalloc Interop.mmsghdr[2];
                int n;
                while (true)
                {
                    msgs[0] = new() { msg_hdr = new() { msg_iov = &iov[0], msg_iovlen = 1, msg_control = control1, msg_controllen = (nuint)s_controlSpace } };
                    msgs[1] = new() { msg_hdr = new() { msg_iov = &iov[1], msg_iovlen = 1, msg_control = control2, msg_controllen = (nuint)s_controlSpace } };
                    n = Interop.recvmmsg(Fd, msgs, 2, Interop.MSG_CMSG_CLOEXEC, null);
                    if (n >= 0) break;
                    var errno = Interop.LastErrno;
                    if (errno != Errno.EINTR) throw new ErrnoException(errno, $"recvmmsg(fd {Fd}, 2)");
                }
                // Take every fd that arrived before anything can throw.
                int c1 = n >= 1 ? TakeFds(control1, (int)msgs[0].msg_hdr.msg_controllen, firstFds) : 0;
                int c2 = n >= 2 ? TakeFds(control2, (int)msgs[1].msg_hdr.msg_controllen, secondFds) : 0;
                firstResult = n >= 1 ? new ReceiveResult((int)msgs[0].msg_len, msgs[0].msg_hdr.msg_flags, c1) : default;
                secondResult = n >= 2 ? new ReceiveResult((int)msgs[1].msg_len, msgs[1].msg_hdr.msg_flags, c2) : default;
                if (n == 1 && !firstResult.EndOfStream)
                    secondResult = Receive(second, secondFds); // returned early (a signal): fetch the second alone
            }
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>Receives one message, waiting for it (poll) as long as it takes.</summary>
    public ReceiveResult Receive(Span<byte> buffer, List<SafeFd>? fds)
    {
        // A socket this class made is blocking: one recvmsg waits. A .NET Socket may be non-blocking: poll first.
        if (_socket is null && ReceiveCore(buffer, fds, 0, out var blocking)) return blocking;
        while (true)
        {
            if (TryReceive(buffer, fds, out var result)) return result;
            Wait(Interop.POLLIN, -1, "recvmsg");
        }
    }

    /// <summary>
    /// Completes when a message (or the end of the connection) can be received, without consuming it: a zero-byte
    /// receive. Only for channels made from a <see cref="Socket"/>.
    /// </summary>
    public ValueTask<int> WaitReadableAsync(CancellationToken cancellationToken = default) =>
        _socket is null
            ? throw new InvalidOperationException("asynchronous waits need a channel made from a Socket")
            : _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a message (or the end of the connection), blocking this thread
    /// (ppoll, nanosecond timeout); true when one can be received. A server uses it to catch a client's next request
    /// directly instead of through the asynchronous wait, which costs a thread hop. The first <paramref name="spin"/>
    /// of the wait polls without sleeping.
    /// </summary>
    public bool PollReadable(TimeSpan timeout, TimeSpan spin)
    {
        if (spin > timeout) spin = timeout;
        if (spin > TimeSpan.Zero)
        {
            // Poll, yielding the CPU between polls (on a busy machine whoever else is runnable gets it): a thread
            // that never slept needs no wake-up, which on an idle CPU costs more than a round trip's own work.
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            do
            {
                if (PollReadable(TimeSpan.Zero)) return true;
                Thread.Yield();
            }
            while (System.Diagnostics.Stopwatch.GetElapsedTime(start) < spin);
        }
        return PollReadable(timeout - spin);
    }

    /// <summary>As <see cref="PollReadable(TimeSpan, TimeSpan)"/> without the spin: sleeps in ppoll at once.</summary>
    public unsafe bool PollReadable(TimeSpan timeout)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            Interop.pollfd pfd = new() { fd = Fd, events = Interop.POLLIN };
            long ns = timeout.Ticks * 100;
            Interop.timespec ts = new() { tv_sec = (nint)(ns / 1_000_000_000), tv_nsec = (nint)(ns % 1_000_000_000) };
            int r = Interop.ppoll(&pfd, 1, &ts, null);
            return r > 0; // 0: timed out; < 0 (EINTR): let the caller wait the usual way
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>shutdown(SHUT_RDWR): wakes a pending wait (it then reads end of stream) and tells the peer.</summary>
    public void Shutdown()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            _ = Interop.shutdown(Fd, Interop.SHUT_RDWR);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing to wake.
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        if (_socket is not null) _socket.Dispose();
        else _handle.Dispose();
    }

    private int Fd => (int)_handle.DangerousGetHandle();

    private unsafe void Wait(short events, int timeoutMilliseconds, string call)
    {
        Interop.pollfd pfd = new() { fd = Fd, events = events };
        while (true)
        {
            int r = Interop.poll(&pfd, 1, timeoutMilliseconds);
            if (r > 0) return; // ready, or POLLERR/POLLHUP, which the next call reports
            if (r == 0) throw new ErrnoException(Errno.ETIMEDOUT, $"{call}(fd {Fd})", $"the peer did not become ready within {timeoutMilliseconds} ms");
            var errno = Interop.LastErrno;
            if (errno != Errno.EINTR) throw new ErrnoException(errno, $"poll(fd {Fd})");
        }
    }

    /// <summary>Wraps every received fd in a SafeFd at once; hands them to <paramref name="fds"/> or closes them.</summary>
    private static unsafe int TakeFds(byte* control, int controlLength, List<SafeFd>? fds)
    {
        int count = 0;
        int offset = 0;
        int hdr = Interop.CMSG_HDRLEN;
        while (offset + hdr <= controlLength)
        {
            var header = (Interop.cmsghdr*)(control + offset);
            int length = (int)header->cmsg_len;
            if (length < hdr || offset + length > controlLength) break;
            if (header->cmsg_level == Interop.SOL_SOCKET && header->cmsg_type == Interop.SCM_RIGHTS)
            {
                int n = (length - hdr) / sizeof(int);
                int* data = (int*)(control + offset + hdr);
                for (int i = 0; i < n; i++)
                {
                    var fd = new SafeFd(data[i]);
                    count++;
                    if (fds is null) fd.Dispose();
                    else fds.Add(fd);
                }
            }
            offset += Interop.CMSG_ALIGN(length);
        }
        return count;
    }
}
