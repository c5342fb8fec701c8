using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    /// <summary>pidfd_open(2) (glibc 2.36, Linux 5.3).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int pidfd_open(int pid, uint flags);
}
