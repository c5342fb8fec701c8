using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int O_NONBLOCK = 0x800;
    internal const int O_PATH = 0x200000;

    /// <summary>O_DIRECTORY: 0200000 on x86-64, 040000 on the Arm ABIs.</summary>
    internal static readonly int O_DIRECTORY = IsArm ? 0x4000 : 0x10000;

    /// <summary>O_NOFOLLOW: 0400000 on x86-64, 0100000 on the Arm ABIs.</summary>
    internal static readonly int O_NOFOLLOW = IsArm ? 0x8000 : 0x20000;

    private static bool IsArm => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64;

    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat_raw(SafeFd dirfd, string path, int flags, uint mode);

    /// <summary>openat(2) without O_CREAT (no mode).</summary>
    internal static int openat(SafeFd dirfd, string path, int flags) => openat_raw(dirfd, path, flags, 0);
}
