using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>Sends an rctl signal action to the process that tried to exceed a value.</summary>
internal static class RctlSignalSender
{
    /// <summary>
    /// kill(pid, sig); returns the errno. The host itself is never signalled (EPERM): in Umem the "kernel" is a
    /// process, and an in-process caller (tests, the CLI) must not be able to stop or kill it through an rctl.
    /// </summary>
    internal static Errno Send(int pid, RctlSignal signal)
    {
        if (pid <= 0 || pid == Environment.ProcessId) return Errno.EPERM;
        return Signals.Send(pid, (int)signal);
    }
}
