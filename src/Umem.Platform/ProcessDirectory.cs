using System.Globalization;
using System.Text;

namespace Umem.Platform;

/// <summary>
/// An open /proc/PID directory. Every file is opened relative to it (openat), so what is read through one
/// <see cref="ProcessDirectory"/> is of the process it was opened for: the directory fd stands for that
/// process, not for its number, and once the process is gone reads fail (ENOENT, ESRCH) even after the pid is
/// reused. Whether the process is still the one meant is for the caller to confirm (a pidfd, <see cref="PeerProcess.IsAlive"/>).
/// </summary>
public sealed class ProcessDirectory : IDisposable
{
    private readonly SafeFd _dir;

    private ProcessDirectory(int pid, SafeFd dir)
    {
        Pid = pid;
        _dir = dir;
    }

    /// <summary>The pid the directory was opened for.</summary>
    public int Pid { get; }

    /// <summary>open("/proc/PID", O_RDONLY|O_DIRECTORY|O_CLOEXEC).</summary>
    public static ProcessDirectory Open(int pid)
    {
        string path = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}");
        int fd = Interop.open(path, Interop.O_RDONLY | Interop.O_DIRECTORY | Interop.O_CLOEXEC);
        if (fd < 0) throw new ErrnoException(Interop.LastErrno, $"open(\"{path}\", O_DIRECTORY)");
        return new ProcessDirectory(pid, new SafeFd(fd));
    }

    /// <summary>A whole /proc file (status, cmdline, ...) as UTF-8 text, at most <paramref name="maxBytes"/>.</summary>
    public string ReadText(string name, int maxBytes = 64 * 1024)
    {
        using var fd = OpenAt(name, Interop.O_RDONLY | Interop.O_CLOEXEC);
        var buffer = new byte[maxBytes];
        return Encoding.UTF8.GetString(buffer, 0, Read(fd, buffer));
    }

    /// <summary>readlinkat: where a link of the process's directory points (exe, cwd), as the kernel prints it.</summary>
    public unsafe string ReadLink(string name)
    {
        var buffer = new byte[4096];
        fixed (byte* b = buffer)
        {
            nint n = Interop.readlinkat(_dir, name, b, (nuint)buffer.Length);
            if (n < 0) throw new ErrnoException(Interop.LastErrno, $"readlinkat(/proc/{Pid}, \"{name}\")");
            return Encoding.UTF8.GetString(buffer, 0, (int)n);
        }
    }

    /// <summary>
    /// Opens <paramref name="name"/> O_RDONLY|O_NONBLOCK|O_CLOEXEC and checks with fstat that it is a regular
    /// file (ENODEV otherwise; the fd is closed). O_NONBLOCK: an open of a FIFO would otherwise wait for a writer.
    /// </summary>
    public SafeFd OpenRegularFile(string name, out FileStatus status)
    {
        var fd = OpenAt(name, Interop.O_RDONLY | Interop.O_NONBLOCK | Interop.O_CLOEXEC);
        try
        {
            status = FileStatus.Of(fd);
            if (!status.IsRegularFile)
                throw new ErrnoException(Errno.ENODEV, $"open(/proc/{Pid}/{name})", $"a {status.TypeName}, not a regular file");
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>read(2) until <paramref name="buffer"/> is full or the end of the file; returns the bytes read.</summary>
    public static unsafe int Read(SafeFd fd, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(fd);
        int total = 0;
        fixed (byte* b = buffer)
        {
            while (total < buffer.Length)
            {
                nint n = Interop.read(fd, b + total, (nuint)(buffer.Length - total));
                if (n < 0)
                {
                    if (Interop.LastErrno == Errno.EINTR) continue;
                    throw new ErrnoException(Interop.LastErrno, $"read({fd})");
                }
                if (n == 0) break;
                total += (int)n;
            }
        }
        return total;
    }

    private SafeFd OpenAt(string name, int flags)
    {
        int fd = Interop.openat(_dir, name, flags);
        if (fd < 0) throw new ErrnoException(Interop.LastErrno, $"openat(/proc/{Pid}, \"{name}\")");
        return new SafeFd(fd);
    }

    public void Dispose() => _dir.Dispose();
}
