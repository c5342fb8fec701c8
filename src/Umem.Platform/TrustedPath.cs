namespace Umem.Platform;

/// <summary>
/// A path that no one but root and one trusted uid can change, checked as sshd's StrictModes checks a user's
/// files. The walk goes from / one component at a time, each opened with openat(O_PATH|O_NOFOLLOW) relative to
/// the one before and checked with fstat, so what is checked is what is opened (nothing can be swapped in
/// between), and every component must hold:
/// <list type="bullet">
/// <item>it is not a symbolic link (ELOOP);</item>
/// <item>it is owned by root or the trusted uid (EPERM): its owner could rename what is in it;</item>
/// <item>group and other cannot write it, unless it is a sticky directory such as /tmp, where others may add
/// entries but not rename or remove ones they do not own (EPERM);</item>
/// <item>all but the last are directories (ENOTDIR).</item>
/// </list>
/// Failures are <see cref="ErrnoException"/>s whose message names the component, the reason and, when the caller
/// gives one, the remedy.
/// </summary>
public static class TrustedPath
{
    /// <summary>Opens <paramref name="path"/> (O_PATH) after checking it from /; returns the fd and its status.</summary>
    public static SafeFd Open(string path, uint trustedUid, out FileStatus status, string? remedy = null) =>
        Walk(path, trustedUid, null, remedy, out status);

    /// <summary>
    /// As <see cref="Open"/>, creating what is missing: the last component with <paramref name="mode"/>, those
    /// before it with <paramref name="parentMode"/> (mkdirat, then fchmod, so the umask changes neither). The
    /// last must be a directory (ENOTDIR).
    /// </summary>
    public static SafeFd CreateDirectory(string path, uint trustedUid, UnixFileMode mode, UnixFileMode parentMode,
        out FileStatus status, string? remedy = null)
    {
        var fd = Walk(path, trustedUid, (mode, parentMode), remedy, out status);
        if (!status.IsDirectory)
        {
            fd.Dispose();
            throw Fail(Errno.ENOTDIR, path, $"{path} is a {status.TypeName}, not a directory", remedy);
        }
        return fd;
    }

    /// <summary>The exception for <paramref name="path"/> failing a check: "PATH: ERRNO (reason: remedy)".</summary>
    internal static ErrnoException Fail(Errno errno, string path, string reason, string? remedy) =>
        new(errno, path, remedy is null ? reason : $"{reason}: {remedy}");

    /// <summary>The components of an absolute path; "." and ".." are refused, so a check sees the path the kernel walks.</summary>
    private static string[] Split(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!path.StartsWith('/') || parts.Any(p => p is "." or ".."))
            throw new ArgumentException($"\"{path}\" must be an absolute path without \".\" or \"..\"", nameof(path));
        return parts;
    }

    private static SafeFd Walk(string path, uint trustedUid, (UnixFileMode Leaf, UnixFileMode Parent)? create, string? remedy,
        out FileStatus status)
    {
        var parts = Split(path);
        int rootFd = Interop.open("/", Interop.O_PATH | Interop.O_DIRECTORY | Interop.O_CLOEXEC);
        if (rootFd < 0) throw new ErrnoException(Interop.LastErrno, "open(\"/\", O_PATH)");
        var current = new SafeFd(rootFd);
        try
        {
            status = FileStatus.Of(current);
            Check(path, "/", status, trustedUid, last: parts.Length == 0, remedy);
            string walked = "";
            for (int i = 0; i < parts.Length; i++)
            {
                walked += "/" + parts[i];
                bool last = i == parts.Length - 1;
                var next = OpenComponent(current, parts[i], path, walked, create is { } c ? (last ? c.Leaf : c.Parent) : null, remedy);
                current.Dispose();
                current = next;
                status = FileStatus.Of(current);
                Check(path, walked, status, trustedUid, last, remedy);
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static SafeFd OpenComponent(SafeFd parent, string name, string path, string walked, UnixFileMode? createMode, string? remedy)
    {
        while (true)
        {
            int fd = Interop.openat(parent, name, Interop.O_PATH | Interop.O_NOFOLLOW | Interop.O_CLOEXEC);
            if (fd >= 0) return new SafeFd(fd);
            var errno = Interop.LastErrno;
            if (errno != Errno.ENOENT || createMode is not { } mode) throw Fail(errno, path, $"cannot open {walked}", remedy);
            if (Interop.mkdirat(parent, name, (uint)mode) < 0)
            {
                if (Interop.LastErrno == Errno.EEXIST) continue; // made meanwhile: checked like any other
                throw Fail(Interop.LastErrno, path, $"cannot create {walked}", remedy);
            }
            int dir = Interop.openat(parent, name, Interop.O_RDONLY | Interop.O_DIRECTORY | Interop.O_NOFOLLOW | Interop.O_CLOEXEC);
            if (dir < 0) throw Fail(Interop.LastErrno, path, $"cannot open {walked} just created", remedy);
            using var created = new SafeFd(dir);
            if (Interop.fchmod(created, (uint)mode) < 0) throw Fail(Interop.LastErrno, path, $"cannot chmod {walked}", remedy);
        }
    }

    private static void Check(string path, string walked, in FileStatus s, uint trustedUid, bool last, string? remedy)
    {
        if (s.IsSymbolicLink)
            throw Fail(Errno.ELOOP, path, $"{walked} is a symbolic link", remedy);
        if (s.Uid != 0 && s.Uid != trustedUid)
            throw Fail(Errno.EPERM, path, $"{walked} is owned by uid {s.Uid}, not by root{(trustedUid != 0 ? $" or uid {trustedUid}" : "")}", remedy);
        if (s.IsWritableByGroupOrOther && !(s.IsDirectory && s.IsSticky))
            throw Fail(Errno.EPERM, path, $"{walked} is writable by group or other (mode {s.Permissions}) and not sticky", remedy);
        if (!last && !s.IsDirectory)
            throw Fail(Errno.ENOTDIR, path, $"{walked} is a {s.TypeName}, not a directory", remedy);
    }
}
