#pragma warning disable CS8981 // struct names follow C (<sys/socket.h> and friends)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int SO_PEERCRED = 17;

    /// <summary>SO_PEERPIDFD (Linux 6.5): a pidfd of the process that connected.</summary>
    internal const int SO_PEERPIDFD = 77;

    /// <summary>struct ucred (SO_PEERCRED).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ucred
    {
        public int pid;
        public uint uid;
        public uint gid;
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);
}
