using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>write(9E).</summary>
public interface IWrite
{
    /// <summary>
    /// write(9E): takes up to <c>uio.Resid</c> bytes from the caller with uiomove(9F) (<see cref="Sunddi.Uiomove"/>)
    /// for device offset <c>uio.Offset</c>. write(2) returns the bytes moved.
    /// </summary>
    Errno Write(DevT dev, ref Uio uio, Cred cred);
}
