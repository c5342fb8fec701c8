namespace Umem.Platform;

/// <summary>
/// Sealed memfds: the unit of memory a process can receive. Every memfd Umem creates is sealed against
/// shrink, grow and further sealing before anyone else can see it (a client that could shrink it would make
/// the host fault with SIGBUS), and its inode mode is 0600 so that another uid cannot reopen it through
/// /proc/PID/fd with more rights than it was granted (see docs/design.md, trust model).
/// </summary>
internal static class MemFd
{
    internal const int DefaultSeals = Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_SEAL;

    /// <summary>Creates a zero-filled, sealed memfd of <paramref name="length"/> bytes.</summary>
    internal static SafeFd CreateSealed(string name, long length)
    {
        SafeFd fd = Interop.memfd_create(name, Interop.MFD_CLOEXEC | Interop.MFD_ALLOW_SEALING);
        try
        {
            if (Interop.ftruncate(fd, length) < 0)
                throw new ErrnoException(Interop.LastErrno, $"ftruncate({fd}, {length})");
            if (Interop.fchmod(fd, Convert.ToUInt32("600", 8)) < 0)
                throw new ErrnoException(Interop.LastErrno, $"fchmod({fd}, 0600)");
            if (Interop.fcntl(fd, Interop.F_ADD_SEALS, DefaultSeals) < 0)
                throw new ErrnoException(Interop.LastErrno, $"fcntl({fd}, F_ADD_SEALS, SHRINK|GROW|SEAL)");
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Frees the pages of a range; every mapper reads zeros afterwards (fallocate PUNCH_HOLE).</summary>
    internal static void PunchHole(SafeFd fd, long offset, long length)
    {
        if (Interop.fallocate(fd, Interop.FALLOC_FL_PUNCH_HOLE | Interop.FALLOC_FL_KEEP_SIZE, offset, length) < 0)
            throw new ErrnoException(Interop.LastErrno, $"fallocate({fd}, PUNCH_HOLE|KEEP_SIZE, {offset}, {length})");
    }

    /// <summary>The seals on a memfd (F_GET_SEALS).</summary>
    internal static int GetSeals(SafeFd fd) =>
        Interop.ThrowIfError(Interop.fcntl(fd, Interop.F_GET_SEALS, 0), $"fcntl({fd}, F_GET_SEALS)");

    /// <summary>
    /// Whether <paramref name="fd"/> is a memfd sealed against shrinking (F_SEAL_SHRINK: a mapping of it cannot
    /// fault with SIGBUS); returns F_GET_SEALS's errno (EINVAL: not a memfd at all).
    /// </summary>
    internal static Errno TryIsSealedAgainstShrinking(SafeFd fd, out bool sealedAgainstShrinking)
    {
        int seals = Interop.fcntl(fd, Interop.F_GET_SEALS, 0);
        sealedAgainstShrinking = seals >= 0 && (seals & Interop.F_SEAL_SHRINK) != 0;
        return seals < 0 ? Interop.LastErrno : Errno.None;
    }

    /// <summary>
    /// A read-only descriptor for the same memory, reopened through /proc/self/fd: an fd opened O_RDONLY cannot
    /// be mapped writable, nor written through.
    /// </summary>
    internal static SafeFd ReopenReadOnly(SafeFd fd)
    {
        string path = $"/proc/self/fd/{fd.Fd}";
        int ro = Interop.open(path, Interop.O_RDONLY | Interop.O_CLOEXEC);
        return ro < 0 ? throw new ErrnoException(Interop.LastErrno, $"open(\"{path}\", O_RDONLY)") : new SafeFd(ro);
    }

    /// <summary>The access mode of a descriptor (F_GETFL &amp; O_ACCMODE): O_RDONLY (0), O_WRONLY (1) or O_RDWR (2).</summary>
    internal static int GetAccessMode(SafeFd fd) =>
        Interop.ThrowIfError(Interop.fcntl(fd, Interop.F_GETFL, 0), $"fcntl({fd}, F_GETFL)") & Interop.O_ACCMODE;

    /// <summary>True when the descriptor was opened O_RDONLY.</summary>
    internal static bool IsReadOnly(SafeFd fd) => GetAccessMode(fd) == Interop.O_RDONLY;

    /// <summary>True when the descriptor was opened O_RDWR.</summary>
    internal static bool IsReadWrite(SafeFd fd) => GetAccessMode(fd) == Interop.O_RDWR;
}
