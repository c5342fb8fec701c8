using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// The I/O request of read(9E) and write(9E) (<c>struct uio</c>, uio(9S)): in illumos a list of user buffers the
/// driver copies to or from with uiomove(9F). Here one buffer, the caller's read buffer or write data, with the
/// same bookkeeping: <see cref="Resid"/> bytes are left to move, <see cref="Offset"/> is where in the device they
/// go, and each move advances one and shrinks the other.
/// </summary>
public ref struct Uio
{
    private readonly Span<byte> _buffer;
    private int _moved;

    internal Uio(Span<byte> buffer, long offset, OpenFlags fmode)
    {
        _buffer = buffer;
        Offset = offset;
        FMode = fmode;
    }

    /// <summary>uio_loffset: the device offset of the next byte.</summary>
    public long Offset { get; private set; }

    /// <summary>uio_resid: bytes not yet moved.</summary>
    public readonly int Resid => _buffer.Length - _moved;

    /// <summary>uio_fmode: the file's flags (FREAD, FWRITE, FNONBLOCK/FNDELAY ...).</summary>
    public OpenFlags FMode { get; }

    /// <summary>Bytes moved so far: what read(2) or write(2) returns.</summary>
    internal readonly int Moved => _moved;

    /// <summary>uiomove(9F): see <see cref="Sunddi.Uiomove"/>.</summary>
    internal Errno Move(scoped Span<byte> address, long nbytes, UioRw rwflag)
    {
        if (nbytes < 0 || nbytes > address.Length) return Errno.EFAULT; // beyond the driver's own buffer
        int n = (int)Math.Min(nbytes, Resid);
        var user = _buffer.Slice(_moved, n);
        if (rwflag == UioRw.Read) address[..n].CopyTo(user);
        else user.CopyTo(address);
        _moved += n;
        Offset += n;
        return Errno.None;
    }
}
