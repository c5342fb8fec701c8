using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Umem.Kernel.Devices;
using Umem.Kernel.Locking;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// One client connection: HELLO first (AwaitingHello), then requests (Ready), until the client goes or the
/// host stops (Closed), when everything the client held is released through the kernel.
/// </summary>
/// <remarks>
/// <para>The connection is transport: it decodes a request, finds the kernel object the id names (in this
/// connection's tables, so a client reaches only its own), calls it with the client's process as curproc, and
/// encodes the answer. Every decision (node permissions, smmap_common, maxprot, the unmap cases, close(9E)'s timing,
/// registered-buffer checks) is the kernel's; the host adds only what the wire and its own resources need (message
/// validation, limits per connection, the segments that fit in a reply).</para>
/// <para>Requests run one at a time in arrival order, so replies go out in request order (each carries the request's
/// seq). An idle connection waits on the host's one-shot epoll (<see cref="EpollReadiness"/>), so it costs no
/// thread; after each reply it lingers briefly in ppoll for the next request.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "RunAsync disposes the channel when the connection ends")]
internal sealed partial class ClientConnection
{
    private enum State
    {
        AwaitingHello,
        Ready,
        Closed,
    }

    private readonly SeqPacketChannel _channel;
    private readonly EpollReadiness.Registration _readiness;
    private readonly LingerSlots _lingerSlots;
    private readonly UmemKernel _kernel;
    private readonly ResourceControlRegistry _controls;
    private readonly DeviceHostOptions _options;
    private readonly ILogger _log;
    private readonly MinorNode _node;
    private readonly MessageBuffers.Pool _bufferPool;
    private readonly LogRateLimit _logLimit;
    private readonly ConnectionAdmission _admission;
    private readonly DescriptorReserve _fdReserve;
    private readonly InheritTokens _tokens;
    private readonly UmemMetrics? _metrics;
    // The errno the request being handled was answered with (None: success), for the metrics.
    private Errno _lastError;
    private UidAccount? _account;
    private bool _socketCounted;
    private bool _idleArmed;
    // Borrowed from the pool for one message (ReceiveOne): set while a message is handled, empty otherwise.
    private byte[] _receive = [];
    private byte[] _send = [];
    private SafeFd[] _sendFds = [];
    private readonly List<SafeFd> _fds = new(4);
    // The kernel objects this client may name, by the ids the kernel gave them (the protocol's handles).
    private readonly Dictionary<ulong, DeviceFile> _opens = [];
    private readonly Dictionary<ulong, DeviceMapping> _mappings = [];
    private long _registeredBytes;
    // Replies the client has not taken yet (its socket queue is full), in order. While any is pending the connection
    // reads no request and no thread waits for it: the epoll thread says when there is room (see FlushAsync).
    private readonly Queue<PendingReply> _outbox = new();
    // Held while a message (or an MMAP reply's messages) is sent or the outbox changes: EVENTs come from other threads.
    private readonly Lock _sendGate = new();
    private State _state;
    private ushort _version; // negotiated by HELLO; 0 before
    private ClientSession? _session;
    // The HELLO timer, then the idle timer (armed only while the connection holds nothing).
    private Timer? _timer;

    internal ClientConnection(Socket socket, MinorNode node, UmemKernel kernel, ResourceControlRegistry controls, DeviceHostOptions options,
        EpollReadiness readiness, LingerSlots lingerSlots, MessageBuffers.Pool bufferPool, LogRateLimit logLimit,
        ConnectionAdmission admission, DescriptorReserve fdReserve, InheritTokens tokens, ILogger log, UmemMetrics? metrics)
    {
        _tokens = tokens;
        _metrics = metrics;
        _fdReserve = fdReserve;
        _logLimit = logLimit;
        _admission = admission;
        _bufferPool = bufferPool;
        _lingerSlots = lingerSlots;
        _channel = new SeqPacketChannel(socket);
        _readiness = readiness.Register(socket.SafeHandle);
        _node = node;
        _kernel = kernel;
        _controls = controls;
        _options = options;
        _log = log;
    }

    internal ClientSession? Session => _session;

    /// <summary>Ends the connection from the host's side: the loop sees end of stream and releases everything.</summary>
    internal void Shutdown() => _channel.Shutdown();

    /// <summary>Serves the connection until it ends, then releases everything the client held.</summary>
    internal async Task RunAsync()
    {
        try
        {
            // A client that never says HELLO is dropped: the loop then reads end of stream. The timer runs from
            // the accept, so identifying the peer is bounded by it too.
            _timer = new Timer(static c => ((ClientConnection)c!).OnTimer(), this, _options.HelloTimeout, Timeout.InfiniteTimeSpan);
            if (!await IdentifyAsync().ConfigureAwait(false)) return;
            while (_state != State.Closed)
            {
                try
                {
                    if (OutboxCount > 0)
                    {
                        if (!await FlushAsync().ConfigureAwait(false)) break;
                        continue;
                    }
                    await _readiness.WaitAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is ErrnoException or ObjectDisposedException)
                {
                    Log.ConnectionLost(_log, _session, e.Message);
                    break;
                }
                // One message per readiness check: a client sending its next request soon is served on this thread
                // (see DeviceHostOptions.Linger), and no receive is spent on an empty queue while it is busy.
                while (ReceiveOne() && _outbox.Count == 0 && Linger())
                {
                }
            }
        }
        finally
        {
            _state = State.Closed;
            _timer?.Dispose();
            DisarmAll();
            lock (_sendGate)
                while (_outbox.TryDequeue(out var pending)) DisposePending(pending);
            Release();
            _readiness.Dispose();
            _channel.Dispose();
            if (_socketCounted) _fdReserve.Return(1);
            if (_account is { } account) _admission.Exit(account);
        }
    }
    /// <summary>
    /// Waits briefly on this thread for the client's next request, if a linger slot is free (at most one per CPU
    /// lingers at once, so busy clients never hold the thread pool's threads); true when one is there.
    /// </summary>
    private bool Linger()
    {
        if (_options.Linger <= TimeSpan.Zero || !_lingerSlots.TryEnter()) return false;
        try
        {
            return _channel.PollReadable(_options.Linger, _options.LingerSpin);
        }
        finally
        {
            _lingerSlots.Exit();
        }
    }

    /// <summary>Receives and handles one message if one is queued; false when the connection must close.</summary>
    private bool ReceiveOne()
    {
        var buffers = _bufferPool.Rent();
        (_receive, _send, _sendFds) = (buffers.Receive, buffers.Send, buffers.SendFds);
        try
        {
            return ReceiveAndHandle();
        }
        finally
        {
            (_receive, _send, _sendFds) = ([], [], []);
            _bufferPool.Return(buffers);
        }
    }

    private bool ReceiveAndHandle()
    {
        ReceiveResult r;
        try
        {
            if (!_channel.TryReceive(_receive.AsSpan(0, Wire.MaxMessage), _fds, out r)) return _state != State.Closed; // spurious wake-up
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, _session, e.Message);
            _state = State.Closed;
            return false;
        }
        try
        {
            if (r.EndOfStream || !Handle(r)) _state = State.Closed;
            else if (_state == State.Ready) UpdateIdleTimer();
        }
        finally
        {
            foreach (var fd in _fds) fd.Dispose(); // unexpected or not taken over: never kept
            _fds.Clear();
        }
        return _state != State.Closed;
    }

    private async Task<bool> IdentifyAsync()
    {
        Kernel.Cred cred;
        string? problem;
        long lockLimit;
        ProcessStat? stat;
        PeerCredentials peerCredentials;
        try
        {
            peerCredentials = _channel.GetPeerCredentials();
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, null, e.Message);
            return false;
        }
        // Refused before anything is read of the peer: its descriptor is closed at once. The socket is the
        // descriptor a connection holds; root's is taken from the reserve when it must.
        string? limit = null;
        _account = _admission.TryEnter(peerCredentials.Uid, out limit);
        if (_account is not null && !(_socketCounted = _fdReserve.TryTake(peerCredentials.Uid, 1, out limit)))
            limit = $"{_fdReserve.Reserve} {limit}";
        if (!_socketCounted)
        {
            _metrics?.Denied(ConnectionLimitName(limit!));
            if (_logLimit.TryWrite(out long dropped)) Log.ConnectionRefused(_log, peerCredentials.Pid, peerCredentials.Uid, _node.Name, limit!, dropped);
            return false;
        }
        // Each uid's connections take their turns at identification in order, and uids round robin (FairTurns).
        long turn = await _admission.Identification.EnterAsync(peerCredentials.Uid).ConfigureAwait(false);
        try
        {
            // From the kernel only, through the peer's pidfd (a reused pid is never taken for it); nothing a client
            // names is opened. The project and zone follow from who the process is (project(5), the zones file).
            var peer = PeerIdentity.Resolve(_channel.Handle);
            problem = peer.Problem;
            cred = _controls.CreateCred(peer.Pid, peer.Uid, peer.Gid, peer.Model) with { Groups = peer.Groups };
            lockLimit = peer.LockedMemoryLimit ?? long.MaxValue;
            stat = peer.Stat;
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, null, e.Message);
            return false;
        }
        finally
        {
            _admission.Identification.Leave(turn);
        }
        _session = new ClientSession(new UmemProcess(_controls, cred) { LockedMemoryLimit = lockLimit }, _node) { Stat = stat };
        Log.Connected(_log, _session);
        if (problem is not null) Log.UnknownDataModel(_log, _session, problem);
        if (cred.Uid == 0 || cred.Uid == ProcessHardening.EffectiveUid) Log.TrustedClient(_log, _session);
        return true;
    }

    /// <summary>
    /// Sends a reply built in the send buffer without waiting; false when the client is gone (the connection then
    /// closes). A client whose queue is full gets the reply later: it is kept (with its own copies of the fds, since
    /// the originals may close with the mapping's export) until <see cref="FlushAsync"/> finds room.
    /// </summary>
    private bool Send(int length, ReadOnlySpan<SafeFd> fds = default)
    {
        lock (_sendGate) return SendLocked(_send.AsSpan(0, length), fds);
    }

    private int OutboxCount
    {
        get
        {
            lock (_sendGate) return _outbox.Count;
        }
    }

    /// <summary>
    /// Sends a message no request asked for (an EVENT) from any thread, in order with the replies: after the pending
    /// ones, never inside an MMAP reply's messages. Dropped once the connection is closed.
    /// </summary>
    private void SendUnsolicited(byte[] message)
    {
        lock (_sendGate)
        {
            if (_state == State.Closed) return;
            try
            {
                SendLocked(message, default);
            }
            catch (ObjectDisposedException)
            {
                // the connection ended meanwhile
            }
        }
    }

    private bool SendLocked(ReadOnlySpan<byte> message, ReadOnlySpan<SafeFd> fds)
    {
        try
        {
            if (_outbox.Count == 0 && _channel.TrySend(message, fds)) return true;
            var copies = new SafeFd[fds.Length];
            try
            {
                for (int i = 0; i < fds.Length; i++) copies[i] = fds[i].Duplicate();
            }
            catch
            {
                foreach (var c in copies) c?.Dispose();
                throw;
            }
            _outbox.Enqueue(new PendingReply(message.ToArray(), copies));
            _fdReserve.Add(copies.Length); // held until the client takes the reply
            return true;
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, _session, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Sends the pending replies in order as the client makes room, waiting on the epoll thread (no thread of the
    /// pool waits). False when the client is gone, or has left a reply unread for <see cref="DeviceHostOptions.SendTimeout"/>:
    /// then it is dropped, and only it waited.
    /// </summary>
    private async Task<bool> FlushAsync()
    {
        long deadline = Environment.TickCount64 + (long)_options.SendTimeout.TotalMilliseconds;
        while (true)
        {
            lock (_sendGate)
            {
                if (!_outbox.TryPeek(out var pending)) break;
                if (_channel.TrySend(pending.Message, pending.Fds))
                {
                    DisposePending(_outbox.Dequeue());
                    continue;
                }
            }
            long left = deadline - Environment.TickCount64;
            var writable = left > 0 ? _readiness.WaitAsync(writable: true).AsTask() : null;
            if (writable is null || await Task.WhenAny(writable, Task.Delay(TimeSpan.FromMilliseconds(left))).ConfigureAwait(false) != writable)
            {
                if (_logLimit.TryWrite(out long dropped)) Log.SlowReader(_log, _session, _options.SendTimeout, dropped);
                return false;
            }
        }
        return true;
    }

    /// <summary>The limit a refused connection met, without its figure (the metrics' and stat's key).</summary>
    internal static string ConnectionLimitName(string limit) =>
        limit.Contains("per uid", StringComparison.Ordinal) ? "connections per uid"
        : limit.Contains("in all", StringComparison.Ordinal) ? "connections in all" : "descriptor reserve";

    /// <summary>Answers <paramref name="header"/> with <paramref name="error"/>; returns whether the connection goes on.</summary>
    private bool Fail(in MessageHeader header, Errno error, bool fatal = false)
    {
        _lastError = error;
        if (_logLimit.TryWrite(out long dropped))
            Log.BadRequest(_log, _session, header.Type, header.Seq, error, fatal ? "; closing the connection" : "", dropped);
        return Send(Reply.WriteError(_send, header.Type, header.Seq, (int)error)) && !fatal;
    }

    /// <summary>Answers with a limit's errno, logged (rate-limited) with the limit that refused it.</summary>
    private bool OverLimit(in MessageHeader header, Errno error, string limit, long value)
    {
        _lastError = error;
        _metrics?.Denied(limit);
        if (_logLimit.TryWrite(out long dropped)) Log.OverLimit(_log, _session, header.Type, error, limit, value, dropped);
        return Send(Reply.WriteError(_send, header.Type, header.Seq, (int)error));
    }

    /// <summary>
    /// Answers a request the kernel refused (its <see cref="ErrnoException"/>'s errno; the message is logged at
    /// debug level) or failed in (any other exception is a bug: logged, answered EIO).
    /// </summary>
    private bool KernelError(in MessageHeader header, Exception e, string call)
    {
        Errno errno;
        if (e is ErrnoException ee && ee.Errno > 0)
        {
            errno = ee.Errno;
            Log.Refused(_log, _session, call, ee.Message);
        }
        else
        {
            Log.KernelFailed(_log, _session, call, e);
            errno = Errno.EIO;
        }
        _lastError = errno;
        return Send(Reply.WriteError(_send, header.Type, header.Seq, (int)errno));
    }

    /// <summary>
    /// Releases everything on the connection as a process exit does: its mappings are unmapped (the drivers'
    /// unmap callbacks run), its files closed (close(9E) runs, the last mapping being gone), and the process
    /// exits (its buffers are unregistered; LONGTERM locks run their cleanup).
    /// </summary>
    private void Release()
    {
        if (_session is null) return;
        int mappings = _mappings.Count, buffers = _session.Process.Buffers.Count, opens = _opens.Count;
        _account!.Release(UidHolding.Mappings, mappings);
        _account.Release(UidHolding.Opens, opens);
        _account.Release(UidHolding.RegisteredBytes, _registeredBytes);
        _registeredBytes = 0;
        // A mapping a forked child has yet to inherit stays (InheritTokens) until its tokens are redeemed or expire.
        foreach (var mapping in _mappings.Values)
            if (!_tokens.Adopt(mapping)) CallQuietly(mapping.Dispose, "munmap");
        _mappings.Clear();
        foreach (var file in _opens.Values) CallQuietly(file.Dispose, "close");
        _opens.Clear();
        CallQuietly(_session.Process.Dispose, "exit");
        Log.Disconnected(_log, _session, mappings, buffers, opens);
        // A client that leaves holding something was killed or did not clean up: worth a line (rate-limited).
        if (mappings + buffers + opens > 0 && _logLimit.TryWrite(out long dropped)) Log.ClientGone(_log, _session, mappings, buffers, opens, dropped);
    }

    private void DisposePending(PendingReply pending)
    {
        _fdReserve.Return(pending.Fds.Length);
        pending.Dispose();
    }

    /// <summary>
    /// Arms the idle timer while the connection holds nothing (after HELLO, and after each request that left it
    /// with nothing), and disarms it once it holds something: what it holds is bounded by the limits, and closing it
    /// would take the client's mappings away.
    /// </summary>
    private void UpdateIdleTimer()
    {
        if (_options.IdleTimeout <= TimeSpan.Zero) return;
        bool empty = _opens.Count == 0 && _mappings.Count == 0 && _session!.Process.Buffers.Count == 0;
        if (empty) _timer?.Change(_options.IdleTimeout, Timeout.InfiniteTimeSpan); // each message restarts it
        else if (_idleArmed) _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _idleArmed = empty;
    }

    /// <summary>The HELLO timeout (no HELLO yet) or the idle timeout (HELLO said, nothing held, nothing sent).</summary>
    private void OnTimer()
    {
        if (_state == State.Ready && !Volatile.Read(ref _idleArmed)) return; // it took something meanwhile
        if (_state == State.Ready && _logLimit.TryWrite(out long dropped)) Log.Idle(_log, _session, _options.IdleTimeout, dropped);
        _channel.Shutdown(); // the loop reads end of stream and releases the connection
    }

    /// <summary>A reply waiting for room in the client's queue, with its own descriptors.</summary>
    private sealed record PendingReply(byte[] Message, SafeFd[] Fds) : IDisposable
    {
        public void Dispose()
        {
            foreach (var fd in Fds) fd.Dispose();
        }
    }

    private void CallQuietly(Action action, string call)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            Log.KernelFailed(_log, _session, call, e);
        }
    }
}
