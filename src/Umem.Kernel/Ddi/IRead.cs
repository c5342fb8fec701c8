using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>read(9E).</summary>
public interface IRead
{
    /// <summary>
    /// read(9E): moves up to <c>uio.Resid</c> bytes from the device to the caller with uiomove(9F)
    /// (<see cref="Sunddi.Uiomove"/>) starting at <c>uio.Offset</c>. read(2) returns the bytes moved; 0 is end of
    /// file. An errno fails the call even after a partial move (illumos: unless it is EINTR).
    /// </summary>
    Errno Read(DevT dev, ref Uio uio, Cred cred);
}
