using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    /// <summary>pidfd_send_signal(2) (glibc 2.36, Linux 5.1); signal 0 only checks that the process exists.</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int pidfd_send_signal(SafeFd pidfd, int sig, void* info, uint flags);
}
