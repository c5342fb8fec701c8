namespace Umem.Client;

/// <summary>poll(2) events of <see cref="UmemDevice.Poll"/> (the Linux and illumos values of sys/poll.h agree).</summary>
[Flags]
public enum UmemPollEvents : short
{
    /// <summary>Nothing ready.</summary>
    None = 0,

    /// <summary>POLLIN: data to read.</summary>
    In = 0x0001,

    /// <summary>POLLPRI: priority data to read.</summary>
    Pri = 0x0002,

    /// <summary>POLLOUT: writing will not block.</summary>
    Out = 0x0004,

    /// <summary>POLLERR: an error (reported whether asked for or not).</summary>
    Err = 0x0008,

    /// <summary>POLLHUP: hung up (reported whether asked for or not).</summary>
    Hup = 0x0010,

    /// <summary>POLLRDNORM: normal data to read.</summary>
    RdNorm = 0x0040,

    /// <summary>POLLRDBAND: priority band data to read.</summary>
    RdBand = 0x0080,

    /// <summary>POLLWRBAND: priority band data may be written.</summary>
    WrBand = 0x0100,
}
