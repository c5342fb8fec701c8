namespace Umem.Kernel.Devices;

/// <summary>The lifetime of a <see cref="DeviceMapping"/>.</summary>
public enum MappingState
{
    /// <summary>Every page of the mapping is mapped.</summary>
    Mapped,

    /// <summary>Some pages were unmapped; the rest remain.</summary>
    PartiallyUnmapped,

    /// <summary>Nothing is left; the mapping is gone.</summary>
    Unmapped,
}
