using System.Net.Sockets;

namespace Umem.Host;

/// <summary>
/// Binds a listening socket at a path in a directory of the host's so that nobody can connect while it still has the
/// wrong owner or mode: it is bound in a private 0700 directory beside the path, set up there, and only then renamed
/// into place (rename(2) is atomic and replaces a stale socket). Node sockets and the admin socket are bound this way.
/// </summary>
internal static class PrivateBind
{
    private static int s_counter;

    /// <summary>
    /// Binds <paramref name="socket"/> at <paramref name="path"/>: <paramref name="setup"/> gets the temporary path
    /// to set the owner and mode on, then the socket listens with <paramref name="backlog"/> and is moved into place.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static void Bind(Socket socket, string path, Action<string> setup, int backlog)
    {
        string directory = Path.GetDirectoryName(path)!;
        string privateDir = Path.Combine(directory, $".bind-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");
        Directory.CreateDirectory(privateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string temp = Path.Combine(privateDir, "s");
            socket.Bind(new UnixDomainSocketEndPoint(temp));
            setup(temp);
            socket.Listen(backlog);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            try
            {
                Directory.Delete(privateDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: an empty private directory left behind harms nobody.
            }
        }
    }

    /// <summary>True when a live listener answers at <paramref name="path"/> (a socket of <paramref name="type"/>).</summary>
    internal static bool IsServed(string path, SocketType type)
    {
        try
        {
            using var probe = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
