namespace Umem.Platform;

/// <summary>Paths of AF_UNIX sockets: what fits in sockaddr_un, and their owner and mode (chown/chmod).</summary>
internal static class UnixSocketPath
{
    /// <summary>The most bytes of a path sun_path holds with its terminating NUL (107 on Linux).</summary>
    internal const int MaxBytes = Interop.SizeofSockaddrUn - Interop.OffsetofSunPath - 1;

    /// <summary>True when <paramref name="path"/> (UTF-8) fits in sockaddr_un.</summary>
    internal static bool Fits(string path) => System.Text.Encoding.UTF8.GetByteCount(path) <= MaxBytes;

    /// <summary>chown(path, uid, gid); throws <see cref="ErrnoException"/>.</summary>
    internal static void SetOwner(string path, uint uid, uint gid)
    {
        if (Interop.chown(path, uid, gid) < 0)
            throw new ErrnoException(Interop.LastErrno, $"chown(\"{path}\", {uid}, {gid})");
    }

    /// <summary>chmod(path, mode); throws <see cref="ErrnoException"/>.</summary>
    internal static void SetMode(string path, UnixFileMode mode)
    {
        if (Interop.chmod(path, (uint)mode) < 0)
            throw new ErrnoException(Interop.LastErrno, $"chmod(\"{path}\", {Convert.ToString((int)mode, 8)})");
    }
}
