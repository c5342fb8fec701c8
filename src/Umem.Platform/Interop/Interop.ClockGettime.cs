using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    // clock_gettime(2), <time.h>. The calling thread's own CPU time: what a benchmark on a shared machine can
    // compare between one and two threads without counting the time another process held the CPU.
    internal const int CLOCK_THREAD_CPUTIME_ID = 3;

    [LibraryImport(Libc, SetLastError = true)]
    internal static unsafe partial int clock_gettime(int clockid, timespec* tp);
}
