using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>
/// POLL (version 3): <c>u64 handle, u16 events, u16 flags, u32 reserved(0)</c>. The driver's chpoll(9E) for
/// <c>events</c>; with <see cref="Arm"/> and nothing ready, the host arms a one-shot EVENT for the handle.
/// </summary>
public readonly record struct PollRequest(ulong Handle, ushort Events, ushort Flags)
{
    /// <summary>Flag: arm a one-shot EVENT when nothing is ready now.</summary>
    public const ushort Arm = 1;

    /// <summary>Flag (with <see cref="Arm"/>): when something is ready now, the EVENT follows the reply at once.</summary>
    public const ushort EventNow = 2;

    /// <summary>The events a client may ask for (POLLIN, POLLPRI, POLLOUT, POLLRDNORM, POLLRDBAND, POLLWRBAND).</summary>
    public const ushort EventMask = 0x0001 | 0x0002 | 0x0004 | 0x0040 | 0x0080 | 0x0100;

    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 16;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Poll, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        BinaryPrimitives.WriteUInt16LittleEndian(p[8..], Events);
        BinaryPrimitives.WriteUInt16LittleEndian(p[10..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], 0);
        return Size;
    }

    /// <summary>Decodes and validates: size or reserved EBADMSG; unknown events or flags EINVAL.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out PollRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[12..]) != 0) return Errno.EBADMSG;
        var r = new PollRequest(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt16LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(p[10..]));
        if ((r.Events & ~EventMask) != 0 || (r.Flags & ~(Arm | EventNow)) != 0 || r.Flags == EventNow) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>POLL reply: <c>u16 revents, u16 armed, u32 reserved(0)</c>; armed 1: one EVENT with the POLL's seq will follow.</summary>
public readonly record struct PollReply(ushort Revents, bool Armed)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 8;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Poll, seq, 0, Size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(p, Revents);
        BinaryPrimitives.WriteUInt16LittleEndian(p[2..], Armed ? (ushort)1 : (ushort)0);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 0);
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked): size, armed 0 or 1, reserved 0.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out PollReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        ushort armed = BinaryPrimitives.ReadUInt16LittleEndian(p[2..]);
        if (armed > 1 || BinaryPrimitives.ReadUInt32LittleEndian(p[4..]) != 0) return Errno.EBADMSG;
        reply = new(BinaryPrimitives.ReadUInt16LittleEndian(p), armed == 1);
        return Errno.None;
    }
}

/// <summary>
/// EVENT (version 3, host to client only, unsolicited): framed as a reply (type <c>0x800F</c>, errno 0) with the
/// seq of the POLL that armed it: <c>u64 handle, u16 revents, u16 reserved(0), u32 reserved(0)</c>.
/// </summary>
public readonly record struct PollEvent(ulong Handle, ushort Revents)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 16;

    /// <summary>Encodes the event; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Event, seq, 0, Size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        BinaryPrimitives.WriteUInt16LittleEndian(p[8..], Revents);
        BinaryPrimitives.WriteUInt16LittleEndian(p[10..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], 0);
        return Size;
    }

    /// <summary>Whether <paramref name="message"/> is an EVENT (by its type field; its fields are not checked).</summary>
    public static bool Is(ReadOnlySpan<byte> message) =>
        message.Length >= Wire.HeaderSize && BinaryPrimitives.ReadUInt16LittleEndian(message[6..]) == ((ushort)MessageType.Event | Wire.ReplyBit);

    /// <summary>Decodes an EVENT: header, errno 0, size and reserved fields (EBADMSG otherwise).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out PollEvent ev, out uint seq)
    {
        ev = default;
        seq = 0;
        var error = MessageHeader.TryRead(message, out var header);
        if (error != Errno.None) return error;
        if (header.RawType != ((ushort)MessageType.Event | Wire.ReplyBit)) return Errno.EPROTO;
        if (message.Length != Size || BinaryPrimitives.ReadInt32LittleEndian(message[Wire.HeaderSize..]) != 0) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        if (BinaryPrimitives.ReadUInt16LittleEndian(p[10..]) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(p[12..]) != 0) return Errno.EBADMSG;
        ev = new(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt16LittleEndian(p[8..]));
        seq = header.Seq;
        return Errno.None;
    }
}
