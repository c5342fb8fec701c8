using System.Runtime.InteropServices;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>read(2) and write(2) on the file: the driver's read(9E) and write(9E) over a <see cref="Uio"/>.</summary>
public sealed partial class DeviceFile
{
    /// <summary>
    /// read(2) (<paramref name="offset"/> null: from the file offset, which advances) or pread(2): the driver's
    /// read(9E) fills up to buffer.Length bytes. Returns the bytes read; 0 is end of file.
    /// </summary>
    /// <exception cref="ErrnoException">EBADF when closed or not open for reading; ENXIO without read(9E) (nodev);
    /// EINVAL for a negative offset; the driver's errno.</exception>
    public int Read(Span<byte> buffer, long? offset = null, bool nonBlock = false) =>
        Transfer(buffer, offset, nonBlock, UioRw.Read);

    /// <summary>
    /// write(2) (<paramref name="offset"/> null: at the file offset, which advances) or pwrite(2): the driver's
    /// write(9E) takes up to data.Length bytes. Returns the bytes written.
    /// </summary>
    /// <exception cref="ErrnoException">EBADF when closed or not open for writing; ENXIO without write(9E) (nodev);
    /// EINVAL for a negative offset; the driver's errno.</exception>
    public int Write(ReadOnlySpan<byte> data, long? offset = null, bool nonBlock = false) =>
        // The uio only reads the caller's bytes in this direction (uiomove with UIO_WRITE).
        Transfer(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(data), data.Length), offset, nonBlock, UioRw.Write);

    private int Transfer(Span<byte> buffer, long? offset, bool nonBlock, UioRw direction)
    {
        string name = direction == UioRw.Read ? "read" : "write";
        int length = buffer.Length;
        string Call() => $"{name}({Node.Name}, {length} bytes{(offset is { } o ? $", offset {o}" : "")})";
        var needed = direction == UioRw.Read ? OpenFlags.Read : OpenFlags.Write;
        if ((Flags & needed) == 0)
            throw new ErrnoException(Errno.EBADF, Call(), $"file {Id} is not open for {(direction == UioRw.Read ? "reading" : "writing")}");
        if (offset < 0) throw new ErrnoException(Errno.EINVAL, Call(), "the offset is negative");
        EnterCall(name);
        try
        {
            var reader = Module.Driver as IRead;
            var writer = Module.Driver as IWrite;
            if (direction == UioRw.Read ? reader is null : writer is null)
                throw new ErrnoException(Errno.ENXIO, Call(), $"driver {Module.Name} has no {name}(9E) entry point");
            long start;
            lock (_gate) start = offset ?? _offset;
            var uio = new Uio(buffer, start, Flags | (nonBlock ? OpenFlags.NonBlock : 0));
            Errno rc;
            try
            {
                using var _ = UmemProcess.EnterIfAny(Process);
                rc = direction == UioRw.Read ? reader!.Read(Dev, ref uio, Cred) : writer!.Write(Dev, ref uio, Cred);
            }
            catch (Exception e)
            {
                Module.ReportException($"{name}(9E)", e);
                throw new ErrnoException(Errno.EIO, Call(), $"{name}(9E) threw {e.GetType().Name}: {e.Message}");
            }
            if (rc != Errno.None) throw DriverErrno.Exception(rc, Call(), $"{name}(9E)");
            if (offset is null)
                lock (_gate) _offset = uio.Offset;
            return uio.Moved;
        }
        finally
        {
            ExitCall();
        }
    }
}
