using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Umem.Platform;

namespace Umem.Host.Admin;

/// <summary>
/// The admin socket (docs/protocol.md, "The admin socket"): an AF_UNIX SOCK_STREAM socket beside the device
/// directory that `umem modinfo`, `pmap`, `prctl`, `stat`, `modload` and `modunload` talk to. Its connections are
/// counted with the device connections (<see cref="ConnectionAdmission"/>, <see cref="DescriptorReserve"/>), so it
/// shares the host's limits; each request is checked as a device request is, then authorised by <see cref="AdminAccess"/>.
/// </summary>
internal sealed class AdminListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly UmemSystem _system;
    private readonly AdminAccess _access;
    private readonly ILogger _log;
    private readonly ConnectionTasks<AdminConnection> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private AdminListener(Socket socket, string path, UmemSystem system, AdminAccess access, ILogger log)
    {
        _socket = socket;
        Path = path;
        _system = system;
        _access = access;
        _log = log;
    }

    /// <summary>The socket's path.</summary>
    internal string Path { get; }

    /// <summary>
    /// Binds the admin socket of <paramref name="system"/> (mode 0666: who may do what is decided per request) and
    /// starts accepting. Null, with a warning, when there is to be none or its directory is not the host's alone.
    /// </summary>
    internal static AdminListener? Start(UmemSystem system, ILogger log)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("umemd runs on Linux only");
        var options = system.Devices.Options;
        if (options.AdminSocketPath is not { } path) return null;
        string directory = System.IO.Path.GetDirectoryName(path)!;
        // Clients trust what answers at this path: a directory others may write (/tmp, for a --dev-dir right under it)
        // would let them put their own socket there first.
        if (!Directory.Exists(directory) || (File.GetUnixFileMode(directory) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            Log.AdminDisabled(log, $"{directory} is missing or writable by others; choose a device directory whose parent is the host's (umem host --host-dir)");
            return null;
        }
        if (!UnixSocketPath.Fits(path))
            throw new ErrnoException(Errno.ENAMETOOLONG, $"bind(\"{path}\")", "the path does not fit in sockaddr_un (107 bytes)");
        if (File.Exists(path) && PrivateBind.IsServed(path, SocketType.Stream))
        {
            // Hosts that put their device directories side by side (dir/dev1, dir/dev2) would share the default
            // path: the first keeps it. A path the operator named is this host's or nothing.
            if (options.AdminSocket is not null)
                throw new ErrnoException(Errno.EADDRINUSE, $"bind(\"{path}\")", "another host serves this admin socket");
            Log.AdminDisabled(log, $"another host serves {path}; name this host's own with umem host --host-dir");
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            const UnixFileMode Mode0666 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            PrivateBind.Bind(socket, path, temp => UnixSocketPath.SetMode(temp, Mode0666), backlog: 64);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var access = new AdminAccess(ProcessHardening.EffectiveUid, options.AdminGroup);
        var listener = new AdminListener(socket, path, system, access, log);
        listener._acceptLoop = AcceptLoop.RunAsync(socket, "admin", log, listener.Serve);
        Log.AdminListening(log, path, ProcessHardening.EffectiveUid, access.AdminGroup is { } g ? $", group {g}" : "");
        return listener;
    }

    private void Serve(Socket client)
    {
        var connection = new AdminConnection(client, _system, _access, _log);
        if (!_connections.TryStart(connection, connection.RunAsync)) client.Dispose();
    }

    /// <summary>Stops accepting, removes the socket and ends every admin connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _connections.Close();
        var ended = _connections.EndAsync(_ => true, c => c.Shutdown());
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Gone already.
        }
        _socket.Dispose();
        await Task.WhenAll(ended, _acceptLoop).ConfigureAwait(false);
    }
}
