using System.Net.Sockets;
using System.Text.Json;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Client.Admin;

/// <summary>
/// A connection to a host's admin socket (docs/protocol.md, "The admin socket"): one request at a time, each answered
/// in order. Used by `umem modinfo`, `pmap`, `prctl`, `stat`, `modload` and `modunload`.
/// </summary>
public sealed class AdminClient : IDisposable
{
    private readonly Socket _socket;
    private uint _seq;

    private AdminClient(Socket socket, string path)
    {
        _socket = socket;
        Path = path;
    }

    /// <summary>The socket connected to.</summary>
    public string Path { get; }

    /// <summary>
    /// Connects to the admin socket at <paramref name="path"/>; throws <see cref="ErrnoException"/> with connect(2)'s
    /// errno (ENOENT: no host made it; ECONNREFUSED: the host that made it is gone; EACCES).
    /// </summary>
    public static AdminClient Connect(string path, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            int ms = (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
            socket.ReceiveTimeout = ms;
            socket.SendTimeout = ms;
            return new AdminClient(socket, path);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ErrnoException(ToErrno(e), $"connect(\"{path}\")");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns the host's reply (check its <see cref="AdminReply.Error"/>).</summary>
    /// <exception cref="ErrnoException">The connection failed (the errno), or the reply was not one (EPROTO).</exception>
    public AdminReply Call(AdminRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        uint seq = ++_seq;
        try
        {
            _socket.Send(AdminWire.Frame(AdminWire.Request, seq, JsonSerializer.SerializeToUtf8Bytes(request, AdminJson.Default.AdminRequest)));
            var header = new byte[AdminWire.HeaderSize];
            ReceiveExactly(header);
            var error = AdminWire.TryReadHeader(header, AdminWire.MaxReply, out var h);
            if (error != Errno.None || h.Type != AdminWire.Reply || h.Seq != seq)
                throw new ErrnoException(Errno.EPROTO, $"admin reply from {Path}", "not a reply to this request");
            var payload = new byte[h.Length - AdminWire.HeaderSize];
            ReceiveExactly(payload);
            return JsonSerializer.Deserialize(payload, AdminJson.Default.AdminReply)
                ?? throw new ErrnoException(Errno.EPROTO, $"admin reply from {Path}", "an empty reply");
        }
        catch (SocketException e)
        {
            throw new ErrnoException(ToErrno(e), $"admin request to {Path}");
        }
        catch (JsonException e)
        {
            throw new ErrnoException(Errno.EPROTO, $"admin reply from {Path}", e.Message);
        }
    }

    /// <summary>Sends raw bytes (tests of the host's validation) and returns the reply, or null when the host closed the connection.</summary>
    public AdminReply? CallRaw(ReadOnlySpan<byte> message)
    {
        _socket.Send(message);
        var header = new byte[AdminWire.HeaderSize];
        if (!TryReceiveExactly(header)) return null;
        if (AdminWire.TryReadHeader(header, AdminWire.MaxReply, out var h) != Errno.None) return null;
        var payload = new byte[h.Length - AdminWire.HeaderSize];
        return TryReceiveExactly(payload) ? JsonSerializer.Deserialize(payload, AdminJson.Default.AdminReply) : null;
    }

    /// <summary>True when the host has closed the connection (end of stream within <paramref name="wait"/>).</summary>
    public bool IsClosedByHost(TimeSpan wait)
    {
        if (!_socket.Poll(wait, SelectMode.SelectRead)) return false;
        try
        {
            return _socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private void ReceiveExactly(Span<byte> buffer)
    {
        if (!TryReceiveExactly(buffer)) throw new ErrnoException(Errno.ECONNRESET, $"admin reply from {Path}", "the host closed the connection");
    }

    private bool TryReceiveExactly(Span<byte> buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = _socket.Receive(buffer[got..]);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    /// <summary>
    /// The errno behind a SocketException: .NET reports some by its own codes only (connect(2)'s ENOENT on a Unix
    /// socket path arrives as AddressNotAvailable, whose native code is EADDRNOTAVAIL).
    /// </summary>
    private static Errno ToErrno(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable => Errno.ENOENT,
        SocketError.ConnectionRefused => Errno.ECONNREFUSED,
        SocketError.AccessDenied => Errno.EACCES,
        SocketError.ConnectionReset => Errno.ECONNRESET,
        SocketError.Shutdown => Errno.EPIPE,
        SocketError.TimedOut or SocketError.WouldBlock => Errno.ETIMEDOUT,
        _ => (Errno)e.NativeErrorCode,
    };

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();
}
