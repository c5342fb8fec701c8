namespace Umem.Kernel.Ddi;

/// <summary>enum fault_type (vm/seg_enum.h): the kind of fault devmap_access(9E) is asked about.</summary>
public enum FaultType
{
    /// <summary>F_INVAL: no translation.</summary>
    Invalid = 0,

    /// <summary>F_PROT: a protection fault.</summary>
    Protection = 1,

    /// <summary>F_SOFTLOCK: lock the translation.</summary>
    SoftLock = 2,

    /// <summary>F_SOFTUNLOCK: release a softlock.</summary>
    SoftUnlock = 3,
}
