using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol.Admin;

/// <summary>
/// Framing of the admin protocol (docs/protocol.md, "The admin socket"): over a SOCK_STREAM socket, each message is a
/// 16-byte header laid out as the device protocol's (magic, version, type, length, seq) followed by a UTF-8 JSON
/// payload. A stream, not SEQPACKET, because a reply (pmap of a busy host) may be far larger than a socket buffer.
/// </summary>
public static class AdminWire
{
    /// <summary><c>"UADM"</c> in memory order, read as a little-endian u32.</summary>
    public const uint Magic = 0x4D444155;

    /// <summary>The admin protocol version this implementation speaks.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes of the header.</summary>
    public const int HeaderSize = 16;

    /// <summary>The type of a request.</summary>
    public const ushort Request = 1;

    /// <summary>The type of a reply (the device protocol's reply bit on <see cref="Request"/>).</summary>
    public const ushort Reply = 0x8001;

    /// <summary>The largest request, header included (the device protocol's UMEM_MAX_MESSAGE).</summary>
    public const int MaxRequest = 65536;

    /// <summary>The largest reply, header included: a view bigger than this is refused with EMSGSIZE.</summary>
    public const int MaxReply = 64 << 20;

    /// <summary>A header read from the wire.</summary>
    public readonly record struct Header(ushort Version, ushort Type, uint Length, uint Seq);

    /// <summary>
    /// Reads and checks a header: EBADMSG (bad magic), EMSGSIZE (a length shorter than the header or longer than
    /// <paramref name="maxLength"/>), EPROTONOSUPPORT (another version). After any of them nothing can be framed.
    /// </summary>
    public static Errno TryReadHeader(ReadOnlySpan<byte> bytes, int maxLength, out Header header)
    {
        header = default;
        if (bytes.Length < HeaderSize) return Errno.EBADMSG;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic) return Errno.EBADMSG;
        header = new Header(BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]));
        if (header.Length < HeaderSize || header.Length > (uint)maxLength) return Errno.EMSGSIZE;
        if (header.Version != Version) return Errno.EPROTONOSUPPORT;
        return Errno.None;
    }

    /// <summary>Writes a header for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, ushort type, int payloadLength, uint seq)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)(HeaderSize + payloadLength));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], seq);
    }

    /// <summary>A whole message: header and payload.</summary>
    public static byte[] Frame(ushort type, uint seq, ReadOnlySpan<byte> payload)
    {
        var message = new byte[HeaderSize + payload.Length];
        WriteHeader(message, type, payload.Length, seq);
        payload.CopyTo(message.AsSpan(HeaderSize));
        return message;
    }
}
