namespace Umem.Kernel.Ddi;

/// <summary>
/// The <c>flags</c> of devmap_umem_setup(9F) (sys/ddidevmap.h), and the cache attributes of sys/ddidmareq.h that
/// newer illumos checks with i_ddi_check_cache_attr.
/// </summary>
[Flags]
public enum DevmapFlags
{
    /// <summary>DEVMAP_DEFAULTS (0): what drivers exporting kernel memory pass.</summary>
    Defaults = 0x00,

    /// <summary>
    /// DEVMAP_MAPPING_INVALID (0x1): set up the handle without a translation, to be supplied later with
    /// devmap_umem_remap. Needs <see cref="AllowRemap"/>; Umem refuses it (see docs/design.md).
    /// </summary>
    MappingInvalid = 0x01,

    /// <summary>DEVMAP_ALLOW_REMAP (0x2): the driver may remap the handle later (Umem has no devmap_umem_remap).</summary>
    AllowRemap = 0x02,

    /// <summary>DEVMAP_USE_PAGESIZE (0x4): do not use large pages (no effect in Umem).</summary>
    UsePageSize = 0x04,

    /// <summary>IOMEM_DATA_CACHED (0x10000): the default cache attribute when none is given.</summary>
    DataCached = 0x10000,

    /// <summary>IOMEM_DATA_UC_WR_COMBINE (0x20000).</summary>
    DataUncachedWriteCombine = 0x20000,

    /// <summary>IOMEM_DATA_UNCACHED (0x40000).</summary>
    DataUncached = 0x40000,

    /// <summary>IOMEM_DATA_MASK (0xF0000): the cache-attribute bits; at most one defined bit may be set.</summary>
    CacheMask = 0xF0000,
}
