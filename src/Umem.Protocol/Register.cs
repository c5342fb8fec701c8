using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>REGISTER: <c>u64 address, u64 length, u32 flags, u32 reserved(0)</c>, with exactly one memfd.</summary>
public readonly record struct RegisterRequest(ulong Address, ulong Length, uint Flags)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 24;

    /// <summary>Encodes the request (the memfd travels beside it); returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Register, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], 0);
        return Size;
    }

    /// <summary>
    /// Decodes and validates: wrong size or nonzero reserved EBADMSG; flags other than 0, an unaligned or zero
    /// address range, or one past 2^63: EINVAL.
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, int pageSize, out RegisterRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[20..]) != 0) return Errno.EBADMSG;
        var r = new RegisterRequest(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[16..]));
        if (r.Flags != 0 || r.Address == 0 || !Ranges.IsValidRange(r.Address, r.Length, pageSize)) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>REGISTER reply: <c>u64 buffer</c>.</summary>
public readonly record struct RegisterReply(ulong Buffer)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 8;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Register, seq, 0, Size);
        BinaryPrimitives.WriteUInt64LittleEndian(Reply.Fields(destination), Buffer);
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out RegisterReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        reply = new(BinaryPrimitives.ReadUInt64LittleEndian(Reply.Fields(message)));
        return Errno.None;
    }
}
