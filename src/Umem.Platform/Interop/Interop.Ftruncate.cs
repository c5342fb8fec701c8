using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int ftruncate(SafeFd fd, long length);
}
