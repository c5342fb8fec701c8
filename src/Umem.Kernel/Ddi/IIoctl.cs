using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>ioctl(9E).</summary>
public interface IIoctl
{
    /// <summary>
    /// ioctl(9E): <paramref name="arg"/> carries the caller's input (ddi_copyin) and room for output (ddi_copyout);
    /// <paramref name="mode"/> has FREAD/FWRITE and the caller's data model (<c>mode.GetModel()</c>).
    /// </summary>
    Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval);
}
