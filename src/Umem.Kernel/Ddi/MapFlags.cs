namespace Umem.Kernel.Ddi;

/// <summary>mmap(2) flags a device mapping may carry (sys/mman.h, with the DDI's values).</summary>
[Flags]
public enum MapFlags
{
    /// <summary>MAP_SHARED (1): changes are shared; the only type devmap supports without a devmap_access callback.</summary>
    Shared = 0x1,

    /// <summary>MAP_PRIVATE (2): devmap_setup refuses it (EINVAL) unless the driver supplies devmap_access(9E).</summary>
    Private = 0x2,

    /// <summary>MAP_TYPE (0xF): the mask of the mapping type.</summary>
    TypeMask = 0xF,
}
