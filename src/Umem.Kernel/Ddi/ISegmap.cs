using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>segmap(9E): the driver's own mmap(2) entry point, usually ending in <see cref="Sunddi.DevmapSetup"/>.</summary>
public interface ISegmap
{
    /// <summary>
    /// segmap(9E). <paramref name="prot"/> already includes PROT_USER; <paramref name="maxprot"/> lacks
    /// PROT_WRITE for a MAP_SHARED mapping of a file not opened for writing. Pass <paramref name="target"/>
    /// (illumos's <c>as</c> and <c>addrp</c>) to <see cref="Sunddi.DevmapSetup"/>.
    /// </summary>
    Errno Segmap(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred);
}
