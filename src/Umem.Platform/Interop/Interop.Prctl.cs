using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int PR_GET_DUMPABLE = 3;
    internal const int PR_SET_DUMPABLE = 4;

    // prctl is variadic in C; the calls used here pass unsigned longs, as the kernel reads them.
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
