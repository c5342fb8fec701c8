using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int _SC_PAGESIZE = 30;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial long sysconf(int name);
}
