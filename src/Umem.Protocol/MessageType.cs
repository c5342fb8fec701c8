namespace Umem.Protocol;

/// <summary>Message types; a reply carries the request's type with <see cref="Wire.ReplyBit"/> set.</summary>
public enum MessageType : ushort
{
    /// <summary>Version negotiation; must be first on a connection.</summary>
    Hello = 1,

    /// <summary>open(2) of the node; runs the driver's open(9E).</summary>
    Open = 2,

    /// <summary>close of an open handle; runs close(9E) when it is the last reference.</summary>
    Close = 3,

    /// <summary>mmap(2): segmap(9E)/devmap(9E); the reply carries one memfd per segment.</summary>
    Mmap = 4,

    /// <summary>munmap(2) of all or part of a mapping.</summary>
    Munmap = 5,

    /// <summary>ioctl(2): the driver's ioctl(9E).</summary>
    Ioctl = 6,

    /// <summary>Registers application memory (a memfd) for ddi_umem_lock(9F).</summary>
    Register = 7,

    /// <summary>Unregisters a buffer; releases drivers' locks on it.</summary>
    Unregister = 8,

    /// <summary>Host to client only: more fds of an MMAP reply.</summary>
    MmapMore = 9,

    /// <summary>Version 2: read(2)/pread(2): the driver's read(9E).</summary>
    Read = 10,

    /// <summary>Version 2: write(2)/pwrite(2): the driver's write(9E).</summary>
    Write = 11,

    /// <summary>Version 3: a one-time token for a mapping a forked child will inherit.</summary>
    DupPrepare = 12,

    /// <summary>Version 3: a forked child makes an inherited mapping its own (devmap_dup(9E)).</summary>
    Inherit = 13,
    /// <summary>Version 3: poll(2) readiness: the driver's chpoll(9E), arming a one-shot EVENT.</summary>
    Poll = 14,

    /// <summary>Version 3, host to client only: an armed POLL's events happened (pollwakeup(9F)).</summary>
    Event = 15,
}
