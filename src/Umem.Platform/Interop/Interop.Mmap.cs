using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int PROT_NONE = 0x0;
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int PROT_EXEC = 0x4;

    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_FIXED = 0x10;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_NORESERVE = 0x4000;
    internal const int MAP_POPULATE = 0x8000;

    internal static readonly nint MAP_FAILED = -1;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, SafeFd fd, long offset);

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint mmap_anonymous(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int munmap(nint addr, nuint length);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int mprotect(nint addr, nuint length, int prot);
}
