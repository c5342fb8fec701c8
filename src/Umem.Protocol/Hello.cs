using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>HELLO: <c>u16 min_version, u16 max_version, u32 reserved(0)</c>.</summary>
public readonly record struct HelloRequest(ushort MinVersion, ushort MaxVersion)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 8;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Hello, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt16LittleEndian(p, MinVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(p[2..], MaxVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 0);
        return Size;
    }

    /// <summary>Decodes a request whose header is valid: wrong size or a nonzero reserved field is EBADMSG.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out HelloRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[4..]) != 0) return Errno.EBADMSG;
        request = new(BinaryPrimitives.ReadUInt16LittleEndian(p), BinaryPrimitives.ReadUInt16LittleEndian(p[2..]));
        return Errno.None;
    }

    /// <summary>The highest version both sides speak, or EPROTONOSUPPORT.</summary>
    public Errno Negotiate(out ushort version)
    {
        version = 0;
        if (MinVersion > MaxVersion || MinVersion > Wire.Version || MaxVersion < Wire.MinVersion)
            return Errno.EPROTONOSUPPORT;
        version = Math.Min(MaxVersion, Wire.Version);
        return Errno.None;
    }
}

/// <summary>HELLO reply: <c>u16 version, u16 reserved, u32 page_size, u32 max_message, u32 max_fds</c>.</summary>
public readonly record struct HelloReply(ushort Version, uint PageSize, uint MaxMessage, uint MaxFds)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 16;

    /// <summary>Encodes a successful reply; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.Hello, seq, 0, Size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(p, Version);
        BinaryPrimitives.WriteUInt16LittleEndian(p[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], PageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], MaxMessage);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], MaxFds);
        return Size;
    }

    /// <summary>Decodes a successful reply (prefix already checked): size, reserved, and sane limits.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out HelloReply reply)
    {
        reply = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        if (BinaryPrimitives.ReadUInt16LittleEndian(p[2..]) != 0) return Errno.EBADMSG;
        reply = new(BinaryPrimitives.ReadUInt16LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[8..]), BinaryPrimitives.ReadUInt32LittleEndian(p[12..]));
        uint page = reply.PageSize;
        if (page == 0 || (page & (page - 1)) != 0) return Errno.EBADMSG;
        if (reply.MaxMessage < Wire.HeaderSize || reply.MaxFds == 0) return Errno.EBADMSG;
        return Errno.None;
    }
}
