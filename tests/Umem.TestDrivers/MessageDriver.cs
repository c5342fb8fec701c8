using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.TestDrivers;

/// <summary>
/// A small message buffer with read(9E), write(9E) and chpoll(9E): node "msg0" holds up to <see cref="Capacity"/>
/// bytes; write(9E) appends (ENOSPC when full; a partial write when only part fits), read(9E) takes from the front
/// (0, end of file, when empty; EAGAIN instead with FNONBLOCK), and chpoll(9E) says POLLIN when there are bytes and
/// POLLOUT when there is room, waking its pollhead (pollwakeup(9F)) when either becomes true. Offsets are ignored:
/// a FIFO, as a pipe-like device is.
/// </summary>
public sealed class MessageDriver : Driver, IRead, IWrite, IChpoll
{
    /// <summary>The node's name.</summary>
    public const string NodeName = "msg0";

    /// <summary>Bytes the buffer holds at most.</summary>
    public const int Capacity = 4096;

    private readonly Lock _gate = new();
    private readonly byte[] _buffer = new byte[Capacity];
    private readonly PollHead _pollHead = new();
    private int _count;

    /// <summary>
    /// When set, read(9E) of an empty buffer without FNONBLOCK answers EAGAIN, as a driver that would wait does here
    /// (the host holds no thread while a client waits): the client waits for POLLIN (chpoll(9E)) and reads again, so
    /// the program's read(2) blocks as on a pipe. Unset, it reads 0 (end of file).
    /// </summary>
    public bool ReadWaits { get; init; }

    /// <summary>The pollhead chpoll(9E) hands out (tests watch who waits on it).</summary>
    public PollHead PollHead => _pollHead;

    /// <summary>Bytes held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd) =>
        cmd != AttachCommand.Attach ? DdiResult.Failure
            : dip.CreateMinorNode(NodeName, SpecType.Char, 0, NodeTypes.Pseudo, NodeAccess.FromOctal("0666"));

    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd) => DdiResult.Success;

    public Errno Read(DevT dev, ref Uio uio, Cred cred)
    {
        Errno rc;
        lock (_gate)
        {
            if (_count == 0) return (uio.FMode & OpenFlags.NonBlock) != 0 || ReadWaits ? Errno.EAGAIN : Errno.None;
            int n = Math.Min(_count, uio.Resid);
            rc = Uiomove(_buffer, n, UioRw.Read, ref uio);
            Buffer.BlockCopy(_buffer, n, _buffer, 0, _count - n);
            _count -= n;
        }
        _pollHead.Wakeup(PollEvents.Out);
        return rc;
    }

    public Errno Write(DevT dev, ref Uio uio, Cred cred)
    {
        Errno rc;
        lock (_gate)
        {
            if (uio.Resid > 0 && _count == Capacity) return Errno.ENOSPC;
            int n = Math.Min(Capacity - _count, uio.Resid);
            rc = Uiomove(_buffer.AsSpan(_count), n, UioRw.Write, ref uio);
            _count += n;
        }
        _pollHead.Wakeup(PollEvents.In);
        return rc;
    }

    public Errno Chpoll(DevT dev, PollEvents events, bool anyYet, out PollEvents revents, out PollHead? pollHead)
    {
        lock (_gate)
            revents = (_count > 0 ? PollEvents.In | PollEvents.RdNorm : 0) | (_count < Capacity ? PollEvents.Out : 0);
        revents &= events;
        pollHead = revents == PollEvents.None && !anyYet ? _pollHead : null;
        return Errno.None;
    }
}
