#pragma warning disable CS8981 // struct names follow C (<sys/epoll.h>)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;
    internal const uint EPOLLONESHOT = 1u << 30;

    /// <summary>struct epoll_event: packed on x86-64 (12 bytes), as the kernel's uapi header declares it there.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct epoll_event
    {
        public uint events;
        public ulong data;
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int epoll_ctl(int epfd, int op, int fd, epoll_event* ev);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout);
}
