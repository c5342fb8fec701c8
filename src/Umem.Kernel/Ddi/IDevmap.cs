using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>devmap(9E): describes a mapping of the device for the devmap framework.</summary>
public interface IDevmap
{
    /// <summary>
    /// devmap(9E): validate <paramref name="off"/> and <paramref name="len"/>, call
    /// <see cref="Sunddi.DevmapUmemSetup"/> for the memory to export, and set <paramref name="maplen"/> to the
    /// bytes this handle covers. A <paramref name="maplen"/> shorter than <paramref name="len"/> makes the framework
    /// call again for the rest with a new handle. Any nonzero return becomes ENXIO for the application (devmap_setup).
    /// </summary>
    /// <param name="dev">The device being mapped.</param>
    /// <param name="dhp">The devmap handle for this part of the mapping.</param>
    /// <param name="off">Device offset of this part.</param>
    /// <param name="len">Bytes still to map.</param>
    /// <param name="maplen">Bytes this handle maps (a multiple of the page size).</param>
    /// <param name="model">The application's data model (DDI_MODEL_ILP32 or DDI_MODEL_LP64).</param>
    Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model);
}
