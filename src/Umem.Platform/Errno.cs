namespace Umem.Platform;

/// <summary>Linux errno values (asm-generic/errno-base.h, errno.h), named as in C.</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EPIPE = 32,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    ENOMSG = 42,
    EOVERFLOW = 75,
    EBADMSG = 74,
    EPROTO = 71,
    ENOTSOCK = 88,
    EMSGSIZE = 90,
    EPROTOTYPE = 91,
    ENOPROTOOPT = 92,
    EPROTONOSUPPORT = 93,
    EOPNOTSUPP = 95,
    EADDRINUSE = 98,
    ENETDOWN = 100,
    ECONNABORTED = 103,
    ECONNRESET = 104,
    ENOBUFS = 105,
    EISCONN = 106,
    ENOTCONN = 107,
    ESHUTDOWN = 108,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
    EALREADY = 114,
    EINPROGRESS = 115,
    ECANCELED = 125,
    EOWNERDEAD = 130,
}

/// <summary>Names and texts for <see cref="Errno"/> values, including ones the enum does not list.</summary>
public static class ErrnoNames
{
    /// <summary>"EACCES" for a known value, "errno 1234" otherwise.</summary>
    public static string Name(this Errno errno) =>
        Enum.IsDefined(errno) ? errno.ToString() : $"errno {(int)errno}";

    /// <summary>The C library's text for the value (strerror).</summary>
    public static string Describe(this Errno errno) =>
        System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage((int)errno);

    /// <summary>Parses "ENXIO" (or a number) back to a value.</summary>
    public static bool TryParse(string text, out Errno errno)
    {
        if (int.TryParse(text, out var n) && n >= 0)
        {
            errno = (Errno)n;
            return true;
        }
        return Enum.TryParse(text, ignoreCase: false, out errno) && Enum.IsDefined(errno);
    }
}
