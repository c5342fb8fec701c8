using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int FALLOC_FL_KEEP_SIZE = 0x01;
    internal const int FALLOC_FL_PUNCH_HOLE = 0x02;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fallocate(SafeFd fd, int mode, long offset, long length);
}
