using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>MMAP: <c>u64 handle, u64 offset, u64 length, u32 prot, u32 flags</c>.</summary>
public readonly record struct MmapRequest(ulong Handle, ulong Offset, ulong Length, uint Prot, uint Flags)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 32;

    /// <summary>Encodes the request; returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        MessageHeader.Write(destination[..Size], MessageType.Mmap, reply: false, Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[24..], Prot);
        BinaryPrimitives.WriteUInt32LittleEndian(p[28..], Flags);
        return Size;
    }

    /// <summary>
    /// Decodes and validates: wrong size EBADMSG; offset or length not page-aligned, a zero length, a range past
    /// 2^63, prot bits other than PROT_READ|WRITE|EXEC, or flags other than MAP_SHARED or MAP_PRIVATE: EINVAL
    /// (as mmap(2) and smmap_common answer).
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, int pageSize, out MmapRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        var r = new MmapRequest(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[16..]), BinaryPrimitives.ReadUInt32LittleEndian(p[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[28..]));
        if (!Ranges.IsValidRange(r.Offset, r.Length, pageSize)) return Errno.EINVAL;
        if ((r.Prot & ~Wire.ProtMask) != 0) return Errno.EINVAL;
        if (r.Flags is not (Wire.MapShared or Wire.MapPrivate)) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>
/// One segment of an MMAP reply (32 bytes): where it lies in the mapping, its length, where it starts in its
/// memfd, its maxprot, and which fd of the reply is its.
/// </summary>
public readonly record struct MmapSegment(ulong Offset, ulong Length, ulong FdOffset, uint MaxProt, uint FdIndex)
{
    /// <summary>Encodes the segment into 32 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], FdOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], MaxProt);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], FdIndex);
    }

    /// <summary>Decodes 32 bytes.</summary>
    public static MmapSegment Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]), BinaryPrimitives.ReadUInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[28..]));
}

/// <summary>MMAP reply: <c>u64 mapping, u64 length, u32 nseg, u32 reserved(0)</c>, then nseg segments.</summary>
public readonly record struct MmapReply(ulong Mapping, ulong Length, uint SegmentCount)
{
    /// <summary>Bytes before the segments.</summary>
    public const int FixedSize = Wire.ReplyPrefixSize + 24;

    /// <summary>Total bytes of a reply with <paramref name="segments"/> segments.</summary>
    public static int SizeFor(int segments) => FixedSize + (segments * Wire.SegmentSize);

    /// <summary>Fds the first reply carries; the rest follow in MMAP_MORE messages.</summary>
    public int FdsInFirstReply => (int)Math.Min(SegmentCount, (uint)Wire.MaxFds);

    /// <summary>Encodes the fixed part; the caller writes the segments with <see cref="SegmentSlot"/>. Returns the total length.</summary>
    public int WriteFixed(Span<byte> destination, uint seq)
    {
        if (SegmentCount is 0 or > Wire.MaxSegments)
            throw new InvalidOperationException($"an MMAP reply carries 1 to {Wire.MaxSegments} segments, not {SegmentCount}");
        int size = SizeFor((int)SegmentCount);
        Reply.WritePrefix(destination, MessageType.Mmap, seq, 0, size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(p, Mapping);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], SegmentCount);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], 0);
        return size;
    }

    /// <summary>The 32 bytes of segment <paramref name="index"/> in a reply buffer.</summary>
    public static Span<byte> SegmentSlot(Span<byte> message, int index) =>
        message.Slice(FixedSize + (index * Wire.SegmentSize), Wire.SegmentSize);

    /// <summary>Segment <paramref name="index"/> of a received reply.</summary>
    public static MmapSegment ReadSegment(ReadOnlySpan<byte> message, int index) =>
        MmapSegment.Read(message.Slice(FixedSize + (index * Wire.SegmentSize), Wire.SegmentSize));

    /// <summary>
    /// Decodes a successful reply (prefix already checked) and validates every segment: 1 to
    /// <see cref="Wire.MaxSegments"/> segments, the size matching nseg, a nonzero page-aligned length, segments
    /// covering [0, length) in order with page-aligned lengths and fd offsets, maxprot within PROT_READ|WRITE|EXEC
    /// and fd_index below nseg. Anything else is EBADMSG: a client must never map what a reply did not describe.
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, int pageSize, out MmapReply reply)
    {
        reply = default;
        if (message.Length < FixedSize) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        var r = new MmapReply(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[16..]));
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[20..]) != 0) return Errno.EBADMSG;
        if (r.SegmentCount is 0 or > Wire.MaxSegments || message.Length != SizeFor((int)r.SegmentCount))
            return Errno.EBADMSG;
        if (!Ranges.IsValidRange(0, r.Length, pageSize)) return Errno.EBADMSG;
        ulong expected = 0;
        for (int i = 0; i < (int)r.SegmentCount; i++)
        {
            var s = ReadSegment(message, i);
            if (s.Offset != expected || !Ranges.IsValidRange(s.FdOffset, s.Length, pageSize)
                || s.Length > r.Length - s.Offset || (s.MaxProt & ~Wire.ProtMask) != 0 || s.FdIndex >= r.SegmentCount)
                return Errno.EBADMSG;
            expected += s.Length;
        }
        if (expected != r.Length) return Errno.EBADMSG;
        reply = r;
        return Errno.None;
    }
}

/// <summary>MMAP_MORE (host to client, reply type): <c>u32 first, u32 count</c> and <c>count</c> fds.</summary>
public readonly record struct MmapMore(uint First, uint Count)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.ReplyPrefixSize + 8;

    /// <summary>Encodes the message (same seq as the MMAP it continues); returns its length.</summary>
    public int Write(Span<byte> destination, uint seq)
    {
        Reply.WritePrefix(destination, MessageType.MmapMore, seq, 0, Size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(p, First);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], Count);
        return Size;
    }

    /// <summary>Decodes a message whose prefix was checked with errno 0; a count of 0 or above UMEM_MAX_FDS is EBADMSG.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out MmapMore more)
    {
        more = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        var m = new MmapMore(BinaryPrimitives.ReadUInt32LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[4..]));
        if (m.Count is 0 or > Wire.MaxFds) return Errno.EBADMSG;
        more = m;
        return Errno.None;
    }
}

/// <summary>MUNMAP: <c>u64 mapping, u64 offset, u64 length</c>.</summary>
public readonly record struct MunmapRequest(ulong Mapping, ulong Offset, ulong Length)
{
    /// <summary>Total bytes.</summary>
    public const int Size = Wire.HeaderSize + 24;

    /// <summary>
    /// Encodes the request; returns its length. With <paramref name="noReply"/> the type carries
    /// <see cref="Wire.NoReplyBit"/>: the host answers only if it refuses the request (and then closes).
    /// </summary>
    public int Write(Span<byte> destination, uint seq, bool noReply = false)
    {
        MessageHeader.Write(destination[..Size], (ushort)((ushort)MessageType.Munmap | (noReply ? Wire.NoReplyBit : 0)), Size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Mapping);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], Length);
        return Size;
    }

    /// <summary>Decodes and validates: wrong size EBADMSG; unaligned, zero-length or overflowing range EINVAL.</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, int pageSize, out MunmapRequest request)
    {
        request = default;
        if (message.Length != Size) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        var r = new MunmapRequest(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[16..]));
        if (!Ranges.IsValidRange(r.Offset, r.Length, pageSize)) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>Range checks shared by MMAP, MUNMAP and REGISTER.</summary>
public static class Ranges
{
    /// <summary>
    /// True when offset and length are multiples of <paramref name="pageSize"/>, length is nonzero, and
    /// offset + length stays below 2^63 (every range must fit in a signed 64-bit offset).
    /// </summary>
    public static bool IsValidRange(ulong offset, ulong length, int pageSize)
    {
        ulong mask = (ulong)pageSize - 1;
        return length != 0 && (offset & mask) == 0 && (length & mask) == 0
            && offset <= long.MaxValue && length <= long.MaxValue - offset;
    }
}
