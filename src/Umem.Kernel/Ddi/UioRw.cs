namespace Umem.Kernel.Ddi;

/// <summary>enum uio_rw (sys/uio.h): the direction of uiomove(9F).</summary>
public enum UioRw
{
    /// <summary>UIO_READ: from the driver's memory to the caller's buffer (a read(9E)).</summary>
    Read = 0,

    /// <summary>UIO_WRITE: from the caller's buffer to the driver's memory (a write(9E)).</summary>
    Write = 1,
}
