using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int SEEK_SET = 0;
    internal const int SEEK_END = 2;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial long lseek(SafeFd fd, long offset, int whence);
}
