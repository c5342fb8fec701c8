using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fchmod(SafeFd fd, uint mode);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fchown(SafeFd fd, uint owner, uint group);
}
