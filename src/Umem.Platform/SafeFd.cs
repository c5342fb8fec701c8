using System.Runtime.InteropServices;

namespace Umem.Platform;

/// <summary>An owned Linux file descriptor; disposing closes it exactly once.</summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(new IntPtr(-1), ownsHandle: true) { }

    public SafeFd(int fd, bool ownsHandle = true) : base(new IntPtr(-1), ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The descriptor number; valid only while this handle is not closed.</summary>
    public int Fd => (int)handle.ToInt64();

    /// <summary>A second descriptor for the same open file (fcntl F_DUPFD_CLOEXEC), owned by the caller.</summary>
    /// <exception cref="ErrnoException">EMFILE and the like.</exception>
    public SafeFd Duplicate()
    {
        int fd = Interop.fcntl(this, Interop.F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? throw new ErrnoException(Interop.LastErrno, $"fcntl({this}, F_DUPFD_CLOEXEC)") : new SafeFd(fd);
    }

    protected override bool ReleaseHandle() => Interop.close((int)handle.ToInt64()) == 0;

    public override string ToString() => IsClosed ? "fd(closed)" : $"fd {Fd}";
}
