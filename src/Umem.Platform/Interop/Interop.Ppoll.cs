#pragma warning disable CS8981 // struct names follow C (<time.h>)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    /// <summary>struct timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public nint tv_sec;
        public nint tv_nsec;
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int ppoll(pollfd* fds, nuint nfds, timespec* timeout, void* sigmask);
}
