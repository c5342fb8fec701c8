namespace Umem.Kernel.Memory;

/// <summary>Flags of <see cref="UmemAllocator.Alloc(long, UmemFlags, int)"/>: DDI_UMEM_* in ddi_umem_alloc(9F).</summary>
[Flags]
public enum UmemFlags
{
    /// <summary>DDI_UMEM_SLEEP (0x0): wait until memory is available.</summary>
    Sleep = 0x0,

    /// <summary>DDI_UMEM_NOSLEEP (0x1): fail at once if memory is not available.</summary>
    NoSleep = 0x1,

    /// <summary>DDI_UMEM_PAGEABLE (0x2): the memory may be paged out; without it the pages are locked (mlock).</summary>
    Pageable = 0x2,
}

/// <summary>What kind of memory a cookie describes (the <c>type</c> field of <c>struct ddi_umem_cookie</c>).</summary>
public enum UmemCookieType
{
    /// <summary>KMEM_PAGEABLE (0x100): from ddi_umem_alloc with DDI_UMEM_PAGEABLE.</summary>
    KmemPageable = 0x100,

    /// <summary>KMEM_NON_PAGEABLE (0x200): from ddi_umem_alloc without DDI_UMEM_PAGEABLE; the pages are locked.</summary>
    KmemNonPageable = 0x200,

    /// <summary>UMEM_LOCKED (0x400): application memory locked by ddi_umem_lock(9F).</summary>
    UmemLocked = 0x400,
}
