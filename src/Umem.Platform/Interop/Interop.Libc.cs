using System.Runtime.InteropServices;

namespace Umem.Platform;

/// <summary>
/// libc entry points, one file per call or family, named as in C. Every call that can fail sets errno
/// (SetLastError = true); <see cref="Interop.ThrowIfError(int, string)"/> and friends turn it into an
/// <see cref="ErrnoException"/> naming the call.
/// </summary>
internal static partial class Interop
{
    internal const string Libc = "libc";

    /// <summary>The errno of the last failed call on this thread.</summary>
    internal static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    internal static int ThrowIfError(int result, string call) =>
        result < 0 ? throw new ErrnoException(LastErrno, call) : result;

    internal static long ThrowIfError(long result, string call) =>
        result < 0 ? throw new ErrnoException(LastErrno, call) : result;

    internal static string FormatProt(int prot)
    {
        if (prot == PROT_NONE) return "PROT_NONE";
        var parts = new List<string>(3);
        if ((prot & PROT_READ) != 0) parts.Add("PROT_READ");
        if ((prot & PROT_WRITE) != 0) parts.Add("PROT_WRITE");
        if ((prot & PROT_EXEC) != 0) parts.Add("PROT_EXEC");
        int rest = prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC);
        if (rest != 0) parts.Add($"0x{rest:x}");
        return string.Join('|', parts);
    }
}
