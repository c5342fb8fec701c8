namespace Umem.Platform;

/// <summary>Process-wide settings a device host applies at start.</summary>
public static class ProcessHardening
{
    /// <summary>
    /// prctl(PR_SET_DUMPABLE, 0): another process with this process's uid can then no longer open this process's
    /// fds through /proc/PID/fd (nor ptrace it), so it cannot reach memfds it was never granted.
    /// </summary>
    public static void SetNonDumpable()
    {
        if (Interop.prctl(Interop.PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
            throw new ErrnoException(Interop.LastErrno, "prctl(PR_SET_DUMPABLE, 0)");
    }

    /// <summary>prctl(PR_GET_DUMPABLE).</summary>
    internal static bool IsDumpable =>
        Interop.ThrowIfError(Interop.prctl(Interop.PR_GET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_GET_DUMPABLE)") != 0;

    /// <summary>
    /// Raises the soft RLIMIT_NOFILE to the hard limit (a host holds an fd per grant unit and per client);
    /// returns the soft limit before and after.
    /// </summary>
    public static unsafe (ulong Before, ulong After) RaiseFileLimit()
    {
        Interop.rlimit lim;
        if (Interop.getrlimit(Interop.RLIMIT_NOFILE, &lim) < 0)
            throw new ErrnoException(Interop.LastErrno, "getrlimit(RLIMIT_NOFILE)");
        ulong before = lim.rlim_cur;
        if (lim.rlim_cur < lim.rlim_max)
        {
            lim.rlim_cur = lim.rlim_max;
            if (Interop.setrlimit(Interop.RLIMIT_NOFILE, &lim) < 0)
                throw new ErrnoException(Interop.LastErrno, $"setrlimit(RLIMIT_NOFILE, {lim.rlim_max})");
        }
        return (before, lim.rlim_cur);
    }

    /// <summary>RLIMIT_NOFILE now (soft, hard); false when getrlimit fails.</summary>
    /// <summary>The lowest descriptor number free now (the one the kernel gives next), found with a dup of <paramref name="fd"/>.</summary>
    internal static int LowestFreeFd(SafeFd fd)
    {
        using var dup = fd.Duplicate();
        return dup.Fd;
    }

    internal static unsafe bool TryGetFileLimit(out ulong soft, out ulong hard)
    {
        Interop.rlimit lim;
        bool ok = Interop.getrlimit(Interop.RLIMIT_NOFILE, &lim) == 0;
        (soft, hard) = ok ? (lim.rlim_cur, lim.rlim_max) : (0UL, 0UL);
        return ok;
    }

    /// <summary>This process's effective uid.</summary>
    public static uint EffectiveUid => Interop.geteuid();

    /// <summary>This process's effective gid.</summary>
    public static uint EffectiveGid => Interop.getegid();

    /// <summary>
    /// Whether this process may give a file to any owner (chown(2) to another uid): root, or CAP_CHOWN in the
    /// effective set (a dedicated service user granted it by systemd's AmbientCapabilities=).
    /// </summary>
    public static unsafe bool MayChownToAnyone
    {
        get
        {
            if (EffectiveUid == 0) return true;
            var header = new Interop.__user_cap_header_struct { version = Interop._LINUX_CAPABILITY_VERSION_3 };
            var data = stackalloc Interop.__user_cap_data_struct[2];
            if (Interop.capget(&header, data) < 0) throw new ErrnoException(Interop.LastErrno, "capget");
            return (data[0].effective & (1u << Interop.CAP_CHOWN)) != 0;
        }
    }
}
