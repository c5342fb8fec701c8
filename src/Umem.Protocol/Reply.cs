using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>The part every reply shares: header and errno. A failed reply is exactly that (20 bytes).</summary>
public static class Reply
{
    /// <summary>Writes a failed reply: header and <paramref name="errno"/>; returns 20.</summary>
    public static int WriteError(Span<byte> destination, MessageType type, uint seq, int errno)
    {
        if (errno <= 0) throw new ArgumentOutOfRangeException(nameof(errno), errno, "a failed reply carries a positive errno");
        return WritePrefix(destination, type, seq, errno, Wire.ReplyPrefixSize);
    }

    /// <summary>Writes a successful reply without fields (CLOSE, MUNMAP, UNREGISTER); returns 20.</summary>
    public static int WriteEmpty(Span<byte> destination, MessageType type, uint seq) =>
        WritePrefix(destination, type, seq, 0, Wire.ReplyPrefixSize);

    /// <summary>Writes header and errno of a reply of <paramref name="length"/> bytes; returns the length.</summary>
    public static int WritePrefix(Span<byte> destination, MessageType type, uint seq, int errno, int length)
    {
        if (destination.Length < length || length < Wire.ReplyPrefixSize)
            throw new ArgumentException($"a reply of {length} bytes does not fit in {destination.Length}", nameof(destination));
        MessageHeader.Write(destination, type, reply: true, length, seq);
        BinaryPrimitives.WriteInt32LittleEndian(destination[Wire.HeaderSize..], errno);
        return length;
    }

    /// <summary>
    /// Validates a received reply's header and errno as an answer to request <paramref name="type"/> with
    /// <paramref name="seq"/>: header valid, reply bit set, same type and seq (EPROTO otherwise), a negative errno
    /// or a failed reply longer than 20 bytes is EBADMSG. On success <paramref name="errno"/> holds the host's
    /// errno (0: the reply's fields follow).
    /// </summary>
    public static Errno TryReadPrefix(ReadOnlySpan<byte> message, MessageType type, uint seq, out int errno)
    {
        errno = 0;
        var error = MessageHeader.TryRead(message, out var header);
        if (error != Errno.None) return error;
        if (header.RawType != ((ushort)type | Wire.ReplyBit) || header.Seq != seq) return Errno.EPROTO;
        if (message.Length < Wire.ReplyPrefixSize) return Errno.EBADMSG;
        errno = BinaryPrimitives.ReadInt32LittleEndian(message[Wire.HeaderSize..]);
        if (errno < 0 || (errno > 0 && message.Length != Wire.ReplyPrefixSize))
        {
            errno = 0;
            return Errno.EBADMSG;
        }
        return Errno.None;
    }

    /// <summary>The reply's fields (after header and errno).</summary>
    internal static ReadOnlySpan<byte> Fields(ReadOnlySpan<byte> message) => message[Wire.ReplyPrefixSize..];

    internal static Span<byte> Fields(Span<byte> message) => message[Wire.ReplyPrefixSize..];
}
