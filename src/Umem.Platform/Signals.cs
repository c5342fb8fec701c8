namespace Umem.Platform;

/// <summary>Signals to other processes: the ones resource_controls(7) allows as rctl actions, and kill(2).</summary>
internal static class Signals
{
    internal const int SIGHUP = Interop.SIGHUP;
    internal const int SIGABRT = Interop.SIGABRT;
    internal const int SIGKILL = Interop.SIGKILL;
    internal const int SIGTERM = Interop.SIGTERM;
    internal const int SIGSTOP = Interop.SIGSTOP;

    /// <summary>kill(pid, signal); returns the errno (ESRCH: no such process, EPERM: not allowed).</summary>
    internal static Errno Send(int pid, int signal) =>
        Interop.kill(pid, signal) == 0 ? Errno.None : Interop.LastErrno;
}
