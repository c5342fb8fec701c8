using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>DUP_PREPARE reply (version 3): <c>u8 token[16]</c>, the one-time secret a forked child redeems with INHERIT.</summary>
public readonly record struct DupPrepareReply(InheritToken Token)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + InheritToken.Size;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.DupPrepare, seq, 0, Size);
        Token.CopyTo(Reply.Fields(destination));
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked): wrong size EBADMSG.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out DupPrepareReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        reply = new(InheritToken.Read(Reply.Fields(message)));
        return Errno.None;
    }
}

/// <summary>INHERIT (version 3): <c>u64 handle, u8 token[16]</c>; the handle is an open of the child's on this connection.</summary>
public readonly record struct InheritRequest(ulong Handle, InheritToken Token)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 8 + InheritToken.Size;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Inherit, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        Token.CopyTo(p[8..]);
        return Size;
    }

    /// <summary>Decodes a request whose header is valid: wrong size EBADMSG.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out InheritRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        request = new(BinaryPrimitives.ReadUInt64LittleEndian(p), InheritToken.Read(p[8..]));
        return Errno.None;
    }
}

/// <summary>INHERIT reply: <c>u64 mapping, u64 length</c>, the child's own mapping id and the mapping's length.</summary>
public readonly record struct InheritReply(ulong Mapping, ulong Length)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 16;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Inherit, seq, 0, Size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(p, Mapping);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Length);
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked): wrong size EBADMSG.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out InheritReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        reply = new(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]));
        return Errno.None;
    }
}
