using System.Runtime.InteropServices;

namespace Umem.Platform;

internal static partial class Interop
{
    // futex(2), <linux/futex.h>. Umem waits on words in memory that several processes map, so it never sets
    // FUTEX_PRIVATE_FLAG: a shared futex is keyed by the page's backing object (the memfd inode) and offset, so
    // every mapping of that page (read-write or read-only, in any process) reaches the same wait queue.
    // FUTEX_WAIT only needs read access to the word (the kernel falls back to a read-only page lookup), and so
    // does FUTEX_WAKE, which lets a reader with a PROT_READ mapping sleep on a word only the writer may change.
    internal const int FUTEX_WAIT = 0;
    internal const int FUTEX_WAKE = 1;

    /// <summary>
    /// The futex system call number, which differs per architecture (asm/unistd_64.h: 202 on x86_64;
    /// asm-generic/unistd.h: 98 on aarch64). glibc has no futex() wrapper, so the call goes through syscall(2).
    /// </summary>
    internal static readonly long SYS_futex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    /// <summary>struct timespec on the 64-bit ABIs Umem runs on (time_t and long are both 64-bit).</summary>
#pragma warning disable CS8981 // named as in C
    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        internal long tv_sec;
        internal long tv_nsec;
    }
#pragma warning restore CS8981

    // syscall(2) is variadic in C; every argument here is an integer or pointer, which the x86-64 and aarch64
    // calling conventions pass exactly like fixed arguments (and glibc's syscall() only moves registers).
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscall_futex(long number, uint* uaddr, int futex_op, uint val,
        timespec* timeout, uint* uaddr2, uint val3);

    /// <summary>
    /// futex(uaddr, futex_op, val, timeout, NULL, 0). FUTEX_WAIT: sleeps while *uaddr == val (0, or -1 with
    /// EAGAIN when the value differs, ETIMEDOUT, EINTR); the timeout is relative. FUTEX_WAKE: wakes up to val
    /// waiters and returns how many it woke.
    /// </summary>
    internal static unsafe long futex(uint* uaddr, int futex_op, uint val, timespec* timeout)
    {
        if (SYS_futex < 0)
            throw new PlatformNotSupportedException(
                $"futex: no system call number known for {RuntimeInformation.ProcessArchitecture}");
        return syscall_futex(SYS_futex, uaddr, futex_op, val, timeout, null, 0);
    }
}
