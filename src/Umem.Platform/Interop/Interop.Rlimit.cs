#pragma warning disable CS8981 // struct names follow C (<sys/socket.h> and friends)
using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    internal const int RLIMIT_NOFILE = 7;

    /// <summary>struct rlimit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int getrlimit(int resource, rlimit* rlim);

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int setrlimit(int resource, rlimit* rlim);
}
