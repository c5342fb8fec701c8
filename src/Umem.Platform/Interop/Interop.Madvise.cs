using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int MADV_DONTNEED = 4;
    internal const int MADV_REMOVE = 9;
    internal const int MADV_DONTFORK = 10;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int madvise(nint addr, nuint length, int advice);
}
