using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int chown(string path, uint owner, uint group);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int chmod(string path, uint mode);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial uint geteuid();

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial uint getegid();
}
