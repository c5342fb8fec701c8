using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    // The signals resource_controls(7) allows as rctl actions (SIGXRES has no Linux counterpart).
    internal const int SIGHUP = 1;
    internal const int SIGABRT = 6;
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;
    internal const int SIGSTOP = 19;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}
