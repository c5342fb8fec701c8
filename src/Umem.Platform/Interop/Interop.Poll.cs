#pragma warning disable CS8981 // struct names follow C (<sys/socket.h> and friends)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const short POLLIN = 0x001;
    internal const short POLLOUT = 0x004;
    internal const short POLLERR = 0x008;
    internal const short POLLHUP = 0x010;
    internal const short POLLNVAL = 0x020;

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int poll(pollfd* fds, nuint nfds, int timeout);
}
