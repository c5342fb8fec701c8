using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// The listening socket of one published node and its accept loop. The socket is bound in a private directory,
/// given the node's owner, group and mode, and only then renamed into the device directory, so nobody can
/// connect while it still has the wrong permissions.
/// </summary>
internal sealed class NodeListener : IDisposable
{
    private readonly Socket _socket;
    private readonly DeviceHost _host;
    private readonly ILogger _log;
    private Task _acceptLoop = Task.CompletedTask;

    private NodeListener(Socket socket, MinorNode node, string path, DeviceHost host, ILogger log)
    {
        _socket = socket;
        Node = node;
        Path = path;
        _host = host;
        _log = log;
    }

    internal MinorNode Node { get; }

    internal string Path { get; }

    internal static NodeListener Create(MinorNode node, string directory, DeviceHost host, ILogger log)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("umemd runs on Linux only");
        string path = System.IO.Path.Combine(directory, node.Name);
        if (!UnixSocketPath.Fits(path))
            throw new ErrnoException(Errno.ENAMETOOLONG, $"bind(\"{path}\")", "the path does not fit in sockaddr_un (107 bytes)");
        // The device directory belongs to the host: a stale socket left by a host that died is replaced, but
        // never a directory, nor a node another live host serves.
        if (Directory.Exists(path))
            throw new ErrnoException(Errno.EISDIR, $"publish \"{path}\"", "a directory is in the way");
        if (File.Exists(path) && PrivateBind.IsServed(path, SocketType.Seqpacket))
            throw new ErrnoException(Errno.EADDRINUSE, $"publish \"{path}\"", "another host is serving this node");
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            PrivateBind.Bind(socket, path, temp =>
            {
                var access = node.Access;
                try
                {
                    UnixSocketPath.SetOwner(temp, access.Uid, access.Gid);
                }
                catch (ErrnoException e) when (e.Errno == Errno.EPERM)
                {
                    throw new ErrnoException(Errno.EPERM, $"publish \"{path}\"",
                        $"node {node.Name} is to be owned by uid {access.Uid} gid {access.Gid}, which this host (uid {ProcessHardening.EffectiveUid}) " +
                        "may not give files to: name the host's own uid, or a group it is in, in the node's minor_perm entry, or run the host as root");
                }
                UnixSocketPath.SetMode(temp, SocketMode(access.Mode));
            }, backlog: 512);
            return new NodeListener(socket, node, path, host, log);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The socket file's mode for a node of mode <paramref name="nodeMode"/>: connect(2) needs write permission on a
    /// socket, so every class that may open the node at all (read or write) gets read and write; OPEN then has the
    /// kernel check the node's exact mode.
    /// </summary>
    internal static UnixFileMode SocketMode(UnixFileMode nodeMode)
    {
        var m = UnixFileMode.None;
        if ((nodeMode & (UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0) m |= UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if ((nodeMode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite)) != 0) m |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        if ((nodeMode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0) m |= UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        return m;
    }

    internal void Start() => _acceptLoop = AcceptLoop.RunAsync(_socket, Node.Name, _log, client => _host.StartConnection(client, Node));

    /// <summary>Stops accepting and removes the socket file (existing connections go on, as with a removed /dev node).</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Gone already.
        }
        _socket.Dispose();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ended with the socket.
        }
    }
}
