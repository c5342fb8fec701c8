namespace Umem.Kernel.Ddi;

/// <summary>Poll events of chpoll(9E) (sys/poll.h, illumos values).</summary>
[Flags]
public enum PollEvents : short
{
    /// <summary>No events.</summary>
    None = 0,

    /// <summary>POLLIN (0x1): data to read.</summary>
    In = 0x0001,

    /// <summary>POLLPRI (0x2): priority data to read.</summary>
    Pri = 0x0002,

    /// <summary>POLLOUT (0x4): writing will not block (also POLLWRNORM).</summary>
    Out = 0x0004,

    /// <summary>POLLERR (0x8): an error (output only).</summary>
    Err = 0x0008,

    /// <summary>POLLHUP (0x10): hung up (output only).</summary>
    Hup = 0x0010,

    /// <summary>POLLNVAL (0x20): invalid descriptor (output only).</summary>
    Nval = 0x0020,

    /// <summary>POLLRDNORM (0x40): normal data to read.</summary>
    RdNorm = 0x0040,

    /// <summary>POLLRDBAND (0x80): out-of-band data to read.</summary>
    RdBand = 0x0080,

    /// <summary>POLLWRBAND (0x100): out-of-band data may be written.</summary>
    WrBand = 0x0100,
}
