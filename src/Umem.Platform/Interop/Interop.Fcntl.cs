using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int F_GETFL = 3;
    internal const int F_DUPFD_CLOEXEC = 1030;
    internal const int FD_CLOEXEC = 1;
    internal const int F_ADD_SEALS = 1033;
    internal const int F_GET_SEALS = 1034;
    internal const int F_SEAL_SEAL = 0x0001;
    internal const int F_SEAL_SHRINK = 0x0002;
    internal const int F_SEAL_GROW = 0x0004;
    internal const int F_SEAL_WRITE = 0x0008;
    internal const int F_SEAL_FUTURE_WRITE = 0x0010;

    // fcntl is variadic in C; every command used here takes one int (or none), which the x86-64 and
    // aarch64 calling conventions pass exactly like a fixed int argument.
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fcntl(SafeFd fd, int cmd, int arg);
}
