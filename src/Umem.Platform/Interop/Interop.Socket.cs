using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_SEQPACKET = 5;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    /// <summary>sizeof(struct sockaddr_un): sa_family_t sun_family; char sun_path[108].</summary>
    internal const int SizeofSockaddrUn = 110;

    /// <summary>offsetof(struct sockaddr_un, sun_path).</summary>
    internal const int OffsetofSunPath = 2;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int connect(int fd, byte* addr, uint addrlen);

    internal const int SHUT_RDWR = 2;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary>
    /// Fills a sockaddr_un for <paramref name="path"/> (NUL-terminated); false when the path does not fit in
    /// sun_path (ENAMETOOLONG).
    /// </summary>
    internal static bool TryFillSockaddrUn(Span<byte> addr, string path, out int length)
    {
        addr.Clear();
        length = 0;
        int n = System.Text.Encoding.UTF8.GetByteCount(path);
        if (n == 0 || n >= SizeofSockaddrUn - OffsetofSunPath) return false;
        BitConverter.TryWriteBytes(addr, (ushort)AF_UNIX);
        System.Text.Encoding.UTF8.GetBytes(path, addr[OffsetofSunPath..]);
        length = OffsetofSunPath + n + 1;
        return true;
    }
}
