using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>
/// The 16-byte header every message starts with: magic, version, type (bit 15 = reply, bit 14 = no reply wanted),
/// total length, seq.
/// </summary>
public readonly record struct MessageHeader(ushort Version, ushort RawType, uint Length, uint Seq)
{
    /// <summary>The type without the reply and no-reply bits.</summary>
    public MessageType Type => (MessageType)(RawType & ~(Wire.ReplyBit | Wire.NoReplyBit));

    /// <summary>True when bit 15 of the type is set.</summary>
    public bool IsReply => (RawType & Wire.ReplyBit) != 0;

    /// <summary>True when bit 14 of the type is set: a request whose sender reads no reply.</summary>
    public bool NoReply => (RawType & Wire.NoReplyBit) != 0;

    /// <summary>Writes a version-1 header at the start of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, MessageType type, bool reply, int length, uint seq) =>
        Write(destination, (ushort)((ushort)type | (reply ? Wire.ReplyBit : 0)), length, seq);

    /// <summary>Writes a version-1 header with the type field exactly as given (flag bits included).</summary>
    public static void Write(Span<byte> destination, ushort rawType, int length, uint seq)
    {
        if (destination.Length < Wire.HeaderSize) throw new ArgumentException("room for a header is needed", nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Wire.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Wire.HeaderVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], rawType);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], seq);
    }

    /// <summary>Reads the header fields without validating them (for a seq to answer even a bad message).</summary>
    public static MessageHeader ReadRaw(ReadOnlySpan<byte> message) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(message[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(message[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(message[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(message[12..]));

    /// <summary>
    /// Validates the header of one whole received message: at least 16 bytes, the magic (EBADMSG), header version 1
    /// (EPROTONOSUPPORT), and a length field equal to the bytes received (EBADMSG). Every failure here means
    /// the peer does not speak this protocol: the connection cannot continue.
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out MessageHeader header)
    {
        header = default;
        if (message.Length < Wire.HeaderSize) return Errno.EBADMSG;
        if (BinaryPrimitives.ReadUInt32LittleEndian(message) != Wire.Magic) return Errno.EBADMSG;
        header = ReadRaw(message);
        if (header.Version != Wire.HeaderVersion) return Errno.EPROTONOSUPPORT;
        if (header.Length != (uint)message.Length) return Errno.EBADMSG;
        return Errno.None;
    }
}
