using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const uint MFD_CLOEXEC = 0x0001;
    internal const uint MFD_ALLOW_SEALING = 0x0002;

    [LibraryImport(Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create_raw(string name, uint flags);

    internal static SafeFd memfd_create(string name, uint flags)
    {
        int fd = memfd_create_raw(name, flags);
        return fd < 0
            ? throw new ErrnoException(LastErrno, $"memfd_create(\"{name}\", 0x{flags:x})")
            : new SafeFd(fd);
    }
}
