using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// One client connection: HELLO first (AwaitingHello), then requests (Ready), until the client goes or the
/// host stops (Closed), when everything the client held is released through the device service.
/// </summary>
/// <remarks>
/// Requests run one at a time in arrival order, so replies go out in request order (each carries the request's
/// seq). An idle connection waits on the host's one-shot epoll (<see cref="EpollReadiness"/>), so it costs no
/// thread; after each reply it lingers briefly in ppoll for the next request. The steady-state request path
/// allocates nothing: buffers, the fd list, mapping entries and the wait itself are reused.
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
    private readonly IDeviceService _service;
    private readonly DeviceHostOptions _options;
    private readonly ILogger _log;
    private readonly MinorNode _node;
    private readonly MessageBuffers.Pool _bufferPool;
    // Borrowed from the pool for one message (ReceiveOne): set while a message is handled, empty otherwise.
    private byte[] _receive = [];
    private byte[] _send = [];
    private SafeFd[] _sendFds = [];
    private readonly List<SafeFd> _fds = new(4);
    private readonly Dictionary<ulong, OpenEntry> _opens = [];
    private readonly Dictionary<ulong, MappingEntry> _mappings = [];
    private readonly Dictionary<ulong, BufferEntry> _buffers = [];
    private readonly Stack<MappingEntry> _spareMappings = new();
    private ulong _lastOpen, _lastMapping, _lastBuffer;
    private State _state;
    private ClientSession? _session;
    private Timer? _helloTimer;

    internal ClientConnection(Socket socket, MinorNode node, IDeviceService service, DeviceHostOptions options, EpollReadiness readiness,
        LingerSlots lingerSlots, MessageBuffers.Pool bufferPool, ILogger log)
    {
        _bufferPool = bufferPool;
        _lingerSlots = lingerSlots;
        _channel = new SeqPacketChannel(socket) { SendTimeoutMilliseconds = (int)options.SendTimeout.TotalMilliseconds };
        _readiness = readiness.Register(socket.SafeHandle);
        _node = node;
        _service = service;
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
            if (!Identify()) return;
            // A client that never says HELLO is dropped: the loop then reads end of stream.
            _helloTimer = new Timer(static c => ((SeqPacketChannel)c!).Shutdown(), _channel, _options.HelloTimeout, Timeout.InfiniteTimeSpan);
            while (_state != State.Closed)
            {
                try
                {
                    await _readiness.WaitAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is ErrnoException or ObjectDisposedException)
                {
                    Log.ConnectionLost(_log, _session, e.Message);
                    break;
                }
                // One message per readiness check: a client sending its next request soon is served on this thread
                // (see DeviceHostOptions.Linger), and no receive is spent on an empty queue while it is busy.
                while (ReceiveOne() && Linger())
                {
                }
            }
        }
        finally
        {
            _state = State.Closed;
            _helloTimer?.Dispose();
            Release();
            _readiness.Dispose();
            _channel.Dispose();
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
        }
        finally
        {
            foreach (var fd in _fds) fd.Dispose(); // unexpected or not taken over: never kept
            _fds.Clear();
        }
        return _state != State.Closed;
    }

    private bool Identify()
    {
        Kernel.Cred cred;
        uint[] groups;
        string? problem;
        try
        {
            cred = PeerIdentity.Resolve(_channel.GetPeerCredentials(), out groups, out problem);
            if (_options.IdentifyPeer is { } identify) cred = identify(cred);
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, null, e.Message);
            return false;
        }
        _session = new ClientSession(cred, _node, groups);
        Log.Connected(_log, _session);
        if (problem is not null) Log.UnknownDataModel(_log, _session, problem);
        if (cred.Uid == 0 || cred.Uid == ProcessHardening.EffectiveUid) Log.TrustedClient(_log, _session);
        return true;
    }

    /// <summary>Sends a reply built in the send buffer; false when the client is gone (the connection then closes).</summary>
    private bool Send(int length, ReadOnlySpan<SafeFd> fds = default)
    {
        try
        {
            _channel.Send(_send.AsSpan(0, length), fds);
            return true;
        }
        catch (ErrnoException e)
        {
            Log.ConnectionLost(_log, _session, e.Message);
            return false;
        }
    }

    /// <summary>Answers <paramref name="header"/> with <paramref name="error"/>; returns whether the connection goes on.</summary>
    private bool Fail(in MessageHeader header, ProtocolError error, bool fatal = false)
    {
        Log.BadRequest(_log, _session, header.Type, header.Seq, error, fatal ? "; closing the connection" : "");
        return Send(Reply.WriteError(_send, header.Type, header.Seq, (int)error)) && !fatal;
    }

    /// <summary>Answers a request the device service refused (ErrnoException) or failed in (EIO, logged).</summary>
    private bool ServiceError(in MessageHeader header, Exception e, string call)
    {
        int errno;
        if (e is ErrnoException ee && ee.Errno > 0)
        {
            errno = (int)ee.Errno;
        }
        else
        {
            Log.ServiceFailed(_log, _session, call, e);
            errno = (int)Errno.EIO;
        }
        return Send(Reply.WriteError(_send, header.Type, header.Seq, errno));
    }

    /// <summary>Releases everything on the connection: unmaps, unregisters, closes, then Disconnected (lock order of close(9E)).</summary>
    private void Release()
    {
        if (_session is null) return;
        int mappings = _mappings.Count, buffers = _buffers.Count, opens = _opens.Count;
        foreach (var entry in _mappings.Values.ToArray())
        {
            UnmapRange(entry, 0, entry.Length);
            RemoveMapping(entry);
        }
        foreach (var (_, b) in _buffers)
        {
            CallQuietly(() => _service.Unregister(_session, b.State), "Unregister");
            b.Buffer.Dispose();
        }
        _buffers.Clear();
        foreach (var (_, o) in _opens) CloseOpen(o);
        _opens.Clear();
        CallQuietly(() => _service.Disconnected(_session), "Disconnected");
        Log.Disconnected(_log, _session, mappings, buffers, opens);
    }

    private void CallQuietly(Action action, string call)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            Log.ServiceFailed(_log, _session, call, e);
        }
    }

    private void CloseOpen(OpenEntry open)
    {
        try
        {
            _service.Close(_session!, open.State);
        }
        catch (Exception e)
        {
            Log.ServiceFailed(_log, _session, "Close", e);
        }
    }

    private sealed class OpenEntry(object state, OpenMode mode)
    {
        public object State { get; } = state;

        public OpenMode Mode { get; } = mode;

        /// <summary>Live mappings made through this open; close(9E) waits for the last.</summary>
        public int Mappings { get; set; }

        /// <summary>CLOSE was requested; close(9E) runs when <see cref="Mappings"/> reaches 0.</summary>
        public bool Closed { get; set; }
    }

    private sealed class MappingEntry
    {
        public ulong Id { get; set; }

        public IDeviceMapping Mapping { get; set; } = null!;

        public OpenEntry Open { get; set; } = null!;

        public long Length { get; set; }

        /// <summary>The ranges still mapped, sorted and disjoint ([Start, End)).</summary>
        public List<(long Start, long End)> Live { get; } = new(2);
    }

    private readonly record struct BufferEntry(object State, RegisteredBuffer Buffer);
}
