using System.Runtime.InteropServices;

namespace Umem.Platform;

/// <summary>
/// The process at the other end of a connected Unix socket, as the kernel recorded it at connect time:
/// credentials (SO_PEERCRED) and a pidfd (SO_PEERPIDFD), which names that very process and never a later one
/// that happens to get its pid.
/// </summary>
public static class PeerProcess
{
    /// <summary>SO_PEERCRED: pid, effective uid and gid of the process that connected.</summary>
    public static unsafe PeerCredentials GetCredentials(SafeHandle socket)
    {
        Interop.ucred cred;
        uint len = (uint)sizeof(Interop.ucred);
        GetSockOpt(socket, Interop.SO_PEERCRED, &cred, &len, "SO_PEERCRED");
        return new PeerCredentials(cred.pid, cred.uid, cred.gid);
    }

    /// <summary>
    /// SO_PEERPIDFD (Linux 6.5): a pidfd of the process that connected, or null when the kernel is older
    /// (ENOPROTOOPT). ESRCH and other errors throw.
    /// </summary>
    public static unsafe SafeFd? GetPidfd(SafeHandle socket)
    {
        int fd = -1;
        uint len = sizeof(int);
        try
        {
            GetSockOpt(socket, Interop.SO_PEERPIDFD, &fd, &len, "SO_PEERPIDFD");
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENOPROTOOPT)
        {
            return null;
        }
        return new SafeFd(fd);
    }

    /// <summary>
    /// pidfd_open(pid): a pidfd of whatever process has <paramref name="pid"/> now, which may not be the one
    /// that connected if that one exited and the pid was reused; prefer <see cref="GetPidfd"/>.
    /// </summary>
    public static SafeFd OpenPidfd(int pid)
    {
        int fd = Interop.pidfd_open(pid, 0);
        if (fd < 0) throw new ErrnoException(Interop.LastErrno, $"pidfd_open({pid})");
        return new SafeFd(fd);
    }

    /// <summary>
    /// pidfd_send_signal(pidfd, 0): whether the process still runs (a zombie counts until it is reaped). EPERM
    /// (no right to signal it) means it exists.
    /// </summary>
    public static unsafe bool IsAlive(SafeFd pidfd)
    {
        ArgumentNullException.ThrowIfNull(pidfd);
        if (Interop.pidfd_send_signal(pidfd, 0, null, 0) == 0) return true;
        var errno = Interop.LastErrno;
        return errno switch
        {
            Errno.EPERM => true,
            Errno.ESRCH => false,
            _ => throw new ErrnoException(errno, $"pidfd_send_signal({pidfd}, 0)"),
        };
    }

    private static unsafe void GetSockOpt(SafeHandle socket, int option, void* value, uint* length, string name)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            int fd = (int)socket.DangerousGetHandle();
            if (Interop.getsockopt(fd, Interop.SOL_SOCKET, option, value, length) < 0)
                throw new ErrnoException(Interop.LastErrno, $"getsockopt(fd {fd}, SOL_SOCKET, {name})");
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }
}
