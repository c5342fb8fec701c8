namespace Umem.Kernel.Locking;

/// <summary>
/// DDI_UMEMLOCK_* flags (ddidevmap.h, esunddi.h). ddi_umem_lock(9F) says "one (and only one)" of READ and
/// WRITE, but illumos accepts both, and so does Umem.
/// </summary>
[Flags]
public enum UmemLockFlags
{
    None = 0,

    /// <summary>DDI_UMEMLOCK_READ (0x01): the device will read the memory.</summary>
    Read = 0x01,

    /// <summary>DDI_UMEMLOCK_WRITE (0x02): the device will write the memory (needs a writable buffer).</summary>
    Write = 0x02,

    /// <summary>
    /// DDI_UMEMLOCK_LONGTERM (0x04, umem_lockmemory only): the lock may be held indefinitely; a cleanup callback
    /// is required and runs when the memory goes away.
    /// </summary>
    LongTerm = 0x04,
}
