using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>OPEN: <c>u32 oflags, u32 reserved(0)</c>; oflags is O_RDONLY (0), O_WRONLY (1) or O_RDWR (2).</summary>
public readonly record struct OpenRequest(uint OFlags)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 8;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Open, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, OFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 0);
        return Size;
    }

    /// <summary>Decodes and validates: size/reserved EBADMSG; oflags other than 0, 1, 2 EINVAL.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out OpenRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[4..]) != 0) return Errno.EBADMSG;
        uint oflags = BinaryPrimitives.ReadUInt32LittleEndian(p);
        if ((oflags & ~Wire.OpenAccessMask) != 0 || oflags == Wire.OpenAccessMask) return Errno.EINVAL;
        request = new(oflags);
        return Errno.None;
    }
}

/// <summary>OPEN reply: <c>u64 handle</c>.</summary>
public readonly record struct OpenReply(ulong Handle)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 8;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Open, seq, 0, Size);
        BinaryPrimitives.WriteUInt64LittleEndian(Reply.Fields(destination), Handle);
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out OpenReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        reply = new(BinaryPrimitives.ReadUInt64LittleEndian(Reply.Fields(message)));
        return Errno.None;
    }
}

/// <summary>
/// A request whose payload is one u64 id: CLOSE (<c>u64 handle</c>), UNREGISTER (<c>u64 buffer</c>) and DUP_PREPARE (<c>u64 mapping</c>).
/// </summary>
public readonly record struct IdRequest(MessageType Type, ulong Id)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 8;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        if (Type is not (MessageType.Close or MessageType.Unregister or MessageType.DupPrepare))
            throw new InvalidOperationException($"{Type} is not a request with a single id");
        MessageHeader.Write(destination[..Size], Type, reply: false, Size, seq);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Wire.HeaderSize..], Id);
        return Size;
    }

    /// <summary>Decodes a CLOSE, UNREGISTER or DUP_PREPARE whose header is valid (wrong size: EBADMSG).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, MessageType type, out IdRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        request = new(type, BinaryPrimitives.ReadUInt64LittleEndian(message[Wire.HeaderSize..]));
        return Errno.None;
    }
}
