namespace Umem.Platform;

/// <summary>
/// Mapping protections (sys/mman.h): the one protection type of Umem, for drivers (devmap_umem_setup(9F)'s maxprot),
/// the wire and applications (<c>UmemDevice.Map</c>). The values are Linux's and the DDI's alike.
/// </summary>
[Flags]
public enum Prot
{
    /// <summary>PROT_NONE (0).</summary>
    None = 0,

    /// <summary>PROT_READ (0x1).</summary>
    Read = 0x1,

    /// <summary>PROT_WRITE (0x2).</summary>
    Write = 0x2,

    /// <summary>PROT_EXEC (0x4).</summary>
    Exec = 0x4,

    /// <summary>PROT_READ | PROT_WRITE.</summary>
    ReadWrite = Read | Write,

    /// <summary>
    /// PROT_USER (0x8): kernel-only, "accessible from user mode". mmap(2) adds it to every request, so a driver's
    /// maxprot for devmap_umem_setup(9F) must include it (hence every example passes <see cref="All"/>).
    /// </summary>
    User = 0x8,

    /// <summary>PROT_ALL (0xF): read, write, execute and user.</summary>
    All = Read | Write | Exec | User,
}
