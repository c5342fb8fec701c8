using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int close(int fd);
}
