namespace Umem.Protocol;

/// <summary>Constants of the Umem wire protocol, versions 1 to 3 (docs/protocol.md).</summary>
public static class Wire
{
    /// <summary><c>"UMEM"</c> in memory order, read as a little-endian u32.</summary>
    public const uint Magic = 0x4D454D55;

    /// <summary>The highest protocol version this implementation speaks (HELLO negotiates; 2 adds READ and WRITE, 3 DUP_PREPARE, INHERIT, POLL and EVENT).</summary>
    public const ushort Version = 3;

    /// <summary>The lowest protocol version this implementation speaks.</summary>
    public const ushort MinVersion = 1;

    /// <summary>The version of the message header's layout, in every message of every protocol version so far.</summary>
    public const ushort HeaderVersion = 1;

    /// <summary>The largest <c>length</c> of a READ or WRITE (version 2).</summary>
    public const int MaxIoData = 60000;

    /// <summary>Bytes in every message header.</summary>
    public const int HeaderSize = 16;

    /// <summary>Bytes of a failed reply: header and errno (also every reply's fixed prefix).</summary>
    public const int ReplyPrefixSize = HeaderSize + 4;

    /// <summary>UMEM_MAX_MESSAGE: the largest message either side sends or accepts.</summary>
    public const int MaxMessage = 65536;

    /// <summary>UMEM_MAX_FDS: the most fds one message carries (the kernel allows 253 per SCM_RIGHTS).</summary>
    public const int MaxFds = 250;

    /// <summary>The most fds the kernel passes in one SCM_RIGHTS message (SCM_MAX_FD).</summary>
    public const int KernelMaxFds = 253;

    /// <summary>Bit 15 of the type field marks a reply.</summary>
    public const ushort ReplyBit = 0x8000;

    /// <summary>
    /// Bit 14 of a request's type: the client wants no reply (MUNMAP only). The host answers such a request only to
    /// refuse it, and then closes the connection.
    /// </summary>
    public const ushort NoReplyBit = 0x4000;

    /// <summary>The largest <c>in_len</c> and <c>out_max</c> of an IOCTL.</summary>
    public const int MaxIoctlData = 60000;

    /// <summary>Bytes in one MMAP segment descriptor.</summary>
    public const int SegmentSize = 32;

    /// <summary>The most segments one MMAP reply can describe (they must all fit in the first reply).</summary>
    public const int MaxSegments = (MaxMessage - MmapReply.FixedSize) / SegmentSize;

    /// <summary>PROT_READ | PROT_WRITE | PROT_EXEC: the protection bits a request may carry.</summary>
    public const uint ProtMask = 0x7;

    /// <summary>MAP_SHARED, the only value besides MAP_PRIVATE an MMAP's flags may hold.</summary>
    public const uint MapShared = 1;

    /// <summary>MAP_PRIVATE.</summary>
    public const uint MapPrivate = 2;

    /// <summary>O_RDONLY, O_WRONLY, O_RDWR: the only OPEN flags.</summary>
    public const uint OpenAccessMask = 0x3;
}
