#pragma warning disable CS8981 // struct names follow C (<sys/socket.h> and friends)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int SOL_SOCKET = 1;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x08;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    /// <summary>struct msghdr (glibc, LP64 and ILP32 alike with size_t fields).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    /// <summary>struct cmsghdr; the data follows at CMSG_ALIGN(sizeof(cmsghdr)).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    /// <summary>struct mmsghdr (recvmmsg).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct mmsghdr
    {
        public msghdr msg_hdr;
        public uint msg_len;
    }

    // The CMSG_* macros of <sys/socket.h>: every control message and its data are aligned to size_t.
    internal static int CMSG_ALIGN(int length) => (length + (IntPtr.Size - 1)) & ~(IntPtr.Size - 1);

    internal static unsafe int CMSG_HDRLEN => CMSG_ALIGN(sizeof(cmsghdr));

    internal static int CMSG_LEN(int dataLength) => CMSG_HDRLEN + dataLength;

    internal static int CMSG_SPACE(int dataLength) => CMSG_ALIGN(dataLength) + CMSG_HDRLEN;

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial nint sendmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial nint recvmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int recvmmsg(int fd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);
}
