using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Protocol;

/// <summary>IOCTL: <c>u64 handle, u32 cmd, u32 out_max, u32 in_len, u32 reserved(0)</c>, then in_len bytes.</summary>
public readonly record struct IoctlRequest(ulong Handle, uint Cmd, uint OutMax, uint InLength)
{
    /// <summary>Bytes before the input data.</summary>
    public const int FixedSize = Wire.HeaderSize + 24;

    /// <summary>Encodes the request with <paramref name="input"/> (which must be <see cref="InLength"/> bytes); returns its length.</summary>
    public int Write(Span<byte> destination, uint seq, ReadOnlySpan<byte> input)
    {
        if (input.Length != InLength) throw new ArgumentException($"input is {input.Length} bytes, in_len says {InLength}", nameof(input));
        if (InLength > Wire.MaxIoctlData || OutMax > Wire.MaxIoctlData)
            throw new ArgumentOutOfRangeException(nameof(input), $"ioctl data is limited to {Wire.MaxIoctlData} bytes each way");
        int size = FixedSize + input.Length;
        MessageHeader.Write(destination[..size], MessageType.Ioctl, reply: false, size, seq);
        var p = destination[Wire.HeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(p, Handle);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], Cmd);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], OutMax);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], InLength);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], 0);
        input.CopyTo(destination[FixedSize..]);
        return size;
    }

    /// <summary>The input bytes of a decoded request.</summary>
    public static ReadOnlySpan<byte> Input(ReadOnlySpan<byte> message) => message[FixedSize..];

    /// <summary>
    /// Decodes and validates: shorter than the fixed part, in_len not matching the bytes that follow, or a
    /// nonzero reserved field is EBADMSG; in_len or out_max above 60000 is EINVAL.
    /// </summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, out IoctlRequest request)
    {
        request = default;
        if (message.Length < FixedSize) return Errno.EBADMSG;
        var p = message[Wire.HeaderSize..];
        var r = new IoctlRequest(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[12..]), BinaryPrimitives.ReadUInt32LittleEndian(p[16..]));
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[20..]) != 0) return Errno.EBADMSG;
        if (r.InLength != (uint)(message.Length - FixedSize)) return Errno.EBADMSG;
        if (r.InLength > Wire.MaxIoctlData || r.OutMax > Wire.MaxIoctlData) return Errno.EINVAL;
        request = r;
        return Errno.None;
    }
}

/// <summary>IOCTL reply: <c>i32 rval, u32 out_len</c>, then out_len bytes.</summary>
public readonly record struct IoctlReply(int Rval, uint OutLength)
{
    /// <summary>Where the output data starts.</summary>
    public const int FixedSize = Wire.ReplyPrefixSize + 8;

    /// <summary>
    /// Encodes header, errno 0, rval and out_len; the output bytes must already be at
    /// <see cref="FixedSize"/> (a driver writes them in place). Returns the total length.
    /// </summary>
    public int WriteFixed(Span<byte> destination, uint seq)
    {
        if (OutLength > Wire.MaxIoctlData) throw new InvalidOperationException($"out_len {OutLength} exceeds {Wire.MaxIoctlData}");
        int size = FixedSize + (int)OutLength;
        Reply.WritePrefix(destination, MessageType.Ioctl, seq, 0, size);
        var p = Reply.Fields(destination);
        BinaryPrimitives.WriteInt32LittleEndian(p, Rval);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], OutLength);
        return size;
    }

    /// <summary>The output bytes of a reply.</summary>
    public static ReadOnlySpan<byte> Output(ReadOnlySpan<byte> message) => message[FixedSize..];

    /// <summary>Decodes a successful reply: out_len must match the bytes that follow and not exceed <paramref name="outMax"/> (EBADMSG).</summary>
    public static Errno TryRead(ReadOnlySpan<byte> message, uint outMax, out IoctlReply reply)
    {
        reply = default;
        if (message.Length < FixedSize) return Errno.EBADMSG;
        var p = Reply.Fields(message);
        var r = new IoctlReply(BinaryPrimitives.ReadInt32LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[4..]));
        if (r.OutLength != (uint)(message.Length - FixedSize) || r.OutLength > outMax) return Errno.EBADMSG;
        reply = r;
        return Errno.None;
    }
}
