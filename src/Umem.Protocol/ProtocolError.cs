namespace Umem.Protocol;

/// <summary>
/// The errno values validation yields (docs/protocol.md, Errors). The values are Linux's, so a reply's errno
/// field carries them as they are.
/// </summary>
public enum ProtocolError
{
    /// <summary>Valid.</summary>
    None = 0,

    /// <summary>An unknown handle, mapping or buffer.</summary>
    EBADF = 9,

    /// <summary>A mapping whose segments do not fit in one reply.</summary>
    E2BIG = 7,

    /// <summary>A permission check failed.</summary>
    EACCES = 13,

    /// <summary>An out-of-range value.</summary>
    EINVAL = 22,

    /// <summary>An unknown type, a request before HELLO, or a reply where a request belongs.</summary>
    EPROTO = 71,

    /// <summary>A wrong length or a malformed field.</summary>
    EBADMSG = 74,

    /// <summary>An oversized message.</summary>
    EMSGSIZE = 90,

    /// <summary>A protocol version neither side can speak.</summary>
    EPROTONOSUPPORT = 93,
}
