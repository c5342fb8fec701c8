#pragma warning disable CS8981 // struct names follow C (<time.h>)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    // struct timespec: see Interop.Futex.cs.
    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int ppoll(pollfd* fds, nuint nfds, timespec* timeout, void* sigmask);
}
