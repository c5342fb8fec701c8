using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int mlock(nint addr, nuint length);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int munlock(nint addr, nuint length);
}
