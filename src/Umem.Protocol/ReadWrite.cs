using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>
/// READ and WRITE (version 2): <c>u64 handle, u64 offset, u32 length, u32 flags</c>; a WRITE's <c>length</c> bytes
/// follow. Without <see cref="AtOffset"/> the file offset is used and advances (read(2)); with it,
/// <c>offset</c> is used (pread(2)). <see cref="NonBlock"/> asks the driver not to wait (FNONBLOCK).
/// </summary>
public readonly record struct IoRequest(MessageType Type, ulong Handle, ulong Offset, uint Length, uint Flags)
{
    /// <summary>Flag: use <c>offset</c>, not the file offset.</summary>
    public const uint AtOffset = 1;

    /// <summary>Flag: FNONBLOCK.</summary>
    public const uint NonBlock = 2;

    /// <summary>Bytes before a WRITE's data (all of a READ).</summary>
    public const int FixedSize = Wire.HeaderSize + 24;

    /// <summary>Encodes the request; a WRITE with <paramref name="data"/> (<see cref="Length"/> bytes). Returns its length.</summary>
    public int Write(Span<byte> destination, uint seq, ReadOnlySpan<byte> data = default)
    {
        if (Type is not (MessageType.Read or MessageType.Write)) throw new InvalidOperationException($"{Type} is not READ or WRITE");
        int dataLength = Type == MessageType.Write ? data.Length : 0;
        if (Type == MessageType.Write && data.Length != Length) throw new ArgumentException($"data is {data.Length} bytes, length says {Length}", nameof(data));
        if (Length > Wire.MaxIoData) throw new ArgumentOutOfRangeException(nameof(data), $"READ and WRITE move at most {Wire.MaxIoData} bytes");
        int size = FixedSize + dataLength;
        MessageHeader.Write(destination[..size], Type, reply: false, size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], Flags);
        data[..dataLength].CopyTo(destination[FixedSize..]);
        return size;
    }

    /// <summary>A decoded WRITE's data.</summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> message) => message[FixedSize..];

    /// <summary>
    /// Decodes and validates: a READ not exactly the fixed size, or a WRITE whose length does not match the bytes
    /// that follow, is EBADMSG; unknown flags, a length above 60000 or an offset above 2^63-1 is EINVAL.
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, MessageType type, out IoRequest request)
    {
        request = default;
        if (message.Length < FixedSize) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        var r = new IoRequest(type, BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[16..]), BinaryPrimitives.ReadUInt32LittleEndian(p[20..]));
        int data = message.Length - FixedSize;
        if (type == MessageType.Read ? data != 0 : r.Length != (uint)data) return Errno.EBADMSG;
        if ((r.Flags & ~(AtOffset | NonBlock)) != 0 || r.Length > Wire.MaxIoData || r.Offset > long.MaxValue) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>READ and WRITE reply: <c>u32 count, u32 reserved(0)</c>; a READ's <c>count</c> bytes follow.</summary>
public readonly record struct IoReply(MessageType Type, uint Count)
{
    /// <summary>Bytes before a READ reply's data.</summary>
    public const int FixedSize = Wire.ReplyPrefixSize + 8;

    /// <summary>
    /// Encodes header, errno 0 and count; a READ's data must already be at <see cref="FixedSize"/> (the driver
    /// moved it there). Returns the total length.
    /// </summary>
    public int WriteFixed(Span<byte> destination, uint seq)
    {
        int size = FixedSize + (Type == MessageType.Read ? (int)Count : 0);
        Reply.WritePrefix(destination, Type, seq, 0, size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(p, Count);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 0);
        return size;
    }

    /// <summary>A READ reply's data.</summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> message) => message[FixedSize..];

    /// <summary>Decodes a successful reply: the count must be at most <paramref name="length"/> and match a READ's data (EBADMSG).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, MessageType type, uint length, out IoReply reply)
    {
        reply = default;
        if (message.Length < FixedSize) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        var r = new IoReply(type, BinaryPrimitives.ReadUInt32LittleEndian(p));
        int data = message.Length - FixedSize;
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[4..]) != 0 || r.Count > length) return Errno.EBADMSG;
        if (type == MessageType.Read ? r.Count != (uint)data : data != 0) return Errno.EBADMSG;
        reply = r;
        return Errno.None;
    }
}
