namespace Umem.Kernel.Ddi;

/// <summary>
/// File flags an entry point receives (sys/file.h): FREAD/FWRITE in open(9E) and close(9E); ioctl(9E)'s
/// <c>mode</c> also carries the caller's data model in the FMODELS bits.
/// </summary>
[Flags]
public enum OpenFlags
{
    /// <summary>No access (never valid for an open).</summary>
    None = 0,

    /// <summary>FREAD (0x1): opened for reading.</summary>
    Read = 0x1,

    /// <summary>FWRITE (0x2): opened for writing.</summary>
    Write = 0x2,

    /// <summary>FNONBLOCK (0x80): in a uio's <c>FMode</c>, the caller does not wait (read(9E), write(9E): EAGAIN).</summary>
    NonBlock = 0x80,

    /// <summary>FILP32 (DATAMODEL_ILP32, 0x00100000): in an ioctl mode, the caller is a 32-bit application.</summary>
    ModelILP32 = 0x00100000,

    /// <summary>FLP64 (DATAMODEL_LP64, 0x00200000): in an ioctl mode, the caller is a 64-bit application.</summary>
    ModelLP64 = 0x00200000,

    /// <summary>FMODELS (DATAMODEL_MASK, 0x0FF00000): the data-model bits of an ioctl mode.</summary>
    Models = 0x0FF00000,
}
