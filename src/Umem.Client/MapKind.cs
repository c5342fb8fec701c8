namespace Umem.Client;

/// <summary>MAP_SHARED or MAP_PRIVATE.</summary>
public enum MapKind
{
    /// <summary>MAP_SHARED: writes reach the device's memory and every other mapper.</summary>
    Shared = 1,

    /// <summary>MAP_PRIVATE: writes stay in this process (copy on write); needs the driver's consent.</summary>
    Private = 2,
}

/// <summary>How a mapping is made in this process (beyond what the device is asked for).</summary>
[Flags]
public enum MapOptions
{
    /// <summary>Pages are faulted in on first touch.</summary>
    None = 0,

    /// <summary>MAP_POPULATE: every page table entry is filled while mapping, so the first touch does not fault.</summary>
    Populate = 1,
}

/// <summary>What an ioctl returned: the driver's <c>*rvalp</c> and the output bytes it wrote.</summary>
public readonly record struct UmemIoctlResult(int Rval, int OutLength);
