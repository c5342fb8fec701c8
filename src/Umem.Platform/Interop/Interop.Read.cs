using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial nint read(SafeFd fd, byte* buf, nuint count);
}
