namespace Umem.Platform;

/// <summary>
/// A failed system call or DDI operation. The message names the call, its arguments, and the errno by name,
/// e.g. <c>mmap(len=4096, prot=PROT_READ|PROT_WRITE, fd=7): EACCES (Permission denied)</c>. An
/// <see cref="IOException"/>, as .NET reports a failed file or socket operation, so an application's
/// <c>catch (IOException)</c> sees a missing node or a refused map; <see cref="Errno"/> keeps the errno.
/// </summary>
public class ErrnoException : IOException
{
    public ErrnoException(Errno errno, string call)
        : base($"{call}: {errno.Name()} ({errno.Describe()})")
    {
        Errno = errno;
        Call = call;
    }

    public ErrnoException(Errno errno, string call, string detail)
        : base($"{call}: {errno.Name()} ({detail})")
    {
        Errno = errno;
        Call = call;
    }

    public ErrnoException() : this(Errno.EIO, "unknown") { }

    public ErrnoException(string message) : base(message)
    {
        Errno = Errno.EIO;
        Call = "unknown";
    }

    public ErrnoException(string message, Exception innerException) : base(message, innerException)
    {
        Errno = Errno.EIO;
        Call = "unknown";
    }

    /// <summary>
    /// A failure reported by another process (the host's admin reply): its errno and its message as it was written
    /// there, which already names the call and the errno.
    /// </summary>
    public static ErrnoException Relayed(Errno errno, string message) => new(errno, message, relayed: true);

    private ErrnoException(Errno errno, string message, bool relayed) : base(message)
    {
        _ = relayed;
        Errno = errno;
        Call = "unknown";
    }

    /// <summary>The errno the call failed with.</summary>
    public Errno Errno { get; }

    /// <summary>The call and its arguments, as printed in the message.</summary>
    public string Call { get; }
}
