namespace Umem.Kernel.Ddi;

/// <summary>enum seg_rw (vm/seg_enum.h): the access that faulted.</summary>
public enum SegRw
{
    /// <summary>S_OTHER.</summary>
    Other = 0,

    /// <summary>S_READ.</summary>
    Read = 1,

    /// <summary>S_WRITE.</summary>
    Write = 2,

    /// <summary>S_EXEC.</summary>
    Exec = 3,

    /// <summary>S_CREATE.</summary>
    Create = 4,
}
