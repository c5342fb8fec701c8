using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// An entry point's nonzero return as the caller receives it: an errno is 1–4095 (Linux's MAX_ERRNO); anything
/// else a driver returns (a negative value, a large number) is a driver bug, answered EIO as an exception from an
/// entry point is, so that no reply carries a value that is not an errno (docs/protocol.md).
/// </summary>
internal static class DriverErrno
{
    /// <summary>The largest errno (include/linux/err.h).</summary>
    internal const int MaxErrno = 4095;

    /// <summary>The exception for <paramref name="rc"/> returned by <paramref name="entryPoint"/> (e.g. "ioctl(9E)").</summary>
    internal static ErrnoException Exception(Errno rc, string call, string entryPoint) =>
        (int)rc is > 0 and <= MaxErrno
            ? new ErrnoException(rc, call, $"{entryPoint} returned {rc.Name()}")
            : new ErrnoException(Errno.EIO, call, $"{entryPoint} returned {(int)rc}, which is not an errno");
}
