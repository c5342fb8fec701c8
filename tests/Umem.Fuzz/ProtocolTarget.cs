using Umem.Platform;
using Umem.Protocol;

namespace Umem.Fuzz;

/// <summary>
/// Every decoder of docs/protocol.md on the same bytes: the header, each request and reply type. None may throw;
/// a request that decodes (with a header naming its type) must encode back to exactly the bytes it came from, so
/// no decoder accepts a message the encoder would write differently (a reserved field, a stray bit, a length).
/// </summary>
public static class ProtocolTarget
{
    private static readonly int Page = SystemPage.Size;

    public static void Run(ReadOnlySpan<byte> message)
    {
        bool headerValid = MessageHeader.TryRead(message, out var h) == Errno.None;
        if (message.Length >= Wire.HeaderSize) _ = MessageHeader.ReadRaw(message);
        Span<byte> again = new byte[Math.Max(message.Length, Wire.MaxMessage)];
        bool plain = headerValid && !h.IsReply && !h.NoReply;

        if (HelloRequest.TryRead(message, out var hello) == Errno.None)
        {
            _ = hello.Negotiate(out _);
            if (plain && h.Type == MessageType.Hello) Same(message, again[..hello.Write(again, h.Seq)], "HELLO");
        }
        if (OpenRequest.TryRead(message, out var open) == Errno.None && plain && h.Type == MessageType.Open)
            Same(message, again[..open.Write(again, h.Seq)], "OPEN");
        foreach (var type in (ReadOnlySpan<MessageType>)[MessageType.Close, MessageType.Unregister])
        {
            if (IdRequest.TryRead(message, type, out var id) == Errno.None && plain && h.Type == type)
                Same(message, again[..id.Write(again, h.Seq)], type.ToString());
        }
        if (MmapRequest.TryRead(message, Page, out var mmap) == Errno.None && plain && h.Type == MessageType.Mmap)
            Same(message, again[..mmap.Write(again, h.Seq)], "MMAP");
        if (MunmapRequest.TryRead(message, Page, out var munmap) == Errno.None && headerValid && !h.IsReply && h.Type == MessageType.Munmap)
            Same(message, again[..munmap.Write(again, h.Seq, h.NoReply)], "MUNMAP");
        if (IoctlRequest.TryRead(message, out var ioctl) == Errno.None)
        {
            var input = IoctlRequest.Input(message);
            if (input.Length != ioctl.InLength) throw new InvalidOperationException($"IOCTL: in_len {ioctl.InLength}, {input.Length} bytes of input");
            if (plain && h.Type == MessageType.Ioctl) Same(message, again[..ioctl.Write(again, h.Seq, input)], "IOCTL");
        }
        if (RegisterRequest.TryRead(message, Page, out var register) == Errno.None && plain && h.Type == MessageType.Register)
            Same(message, again[..register.Write(again, h.Seq)], "REGISTER");
        foreach (var type in (ReadOnlySpan<MessageType>)[MessageType.Read, MessageType.Write])
        {
            if (IoRequest.TryRead(message, type, out var io) == Errno.None && plain && h.Type == type)
                Same(message, again[..io.Write(again, h.Seq, type == MessageType.Write ? IoRequest.Data(message) : default)], type.ToString());
        }
        if (PollRequest.TryRead(message, out var poll) == Errno.None && plain && h.Type == MessageType.Poll)
            Same(message, again[..poll.Write(again, h.Seq)], "POLL");

        // Replies (what a client decodes): they must not throw either, and what they accept must be in range.
        _ = HelloReply.TryRead(message, out _);
        _ = OpenReply.TryRead(message, out _);
        _ = RegisterReply.TryRead(message, out _);
        _ = MmapMore.TryRead(message, out _);
        if (IoctlReply.TryRead(message, Wire.MaxIoctlData, out var ioctlReply) == Errno.None)
        {
            var output = IoctlReply.Output(message);
            if (output.Length != ioctlReply.OutLength) throw new InvalidOperationException($"IOCTL reply: out_len {ioctlReply.OutLength}, {output.Length} bytes");
        }
        foreach (var type in (ReadOnlySpan<MessageType>)[MessageType.Read, MessageType.Write])
        {
            if (IoReply.TryRead(message, type, Wire.MaxIoData, out var ioReply) == Errno.None && type == MessageType.Read && IoReply.Data(message).Length != ioReply.Count)
                throw new InvalidOperationException($"READ reply: count {ioReply.Count}, {IoReply.Data(message).Length} bytes");
        }
        if (PollReply.TryRead(message, out var pollReply) == Errno.None && pollReply.Write(again, h.Seq) is var n && !message[Wire.ReplyPrefixSize..].SequenceEqual(again[Wire.ReplyPrefixSize..n]))
            throw new InvalidOperationException("POLL reply: fields do not round-trip");
        if (PollEvent.TryRead(message, out var ev, out uint evSeq) == Errno.None)
            Same(message, again[..ev.Write(again, evSeq)], "EVENT");
        if (MmapReply.TryRead(message, Page, out var mmapReply) == Errno.None)
        {
            for (int i = 0; i < (int)mmapReply.SegmentCount; i++) _ = MmapReply.ReadSegment(message, i);
        }
        if (headerValid)
        {
            foreach (MessageType type in Enum.GetValues<MessageType>()) _ = Reply.TryReadPrefix(message, type, h.Seq, out _);
        }
    }

    private static void Same(ReadOnlySpan<byte> decoded, ReadOnlySpan<byte> encoded, string what)
    {
        if (!decoded.SequenceEqual(encoded))
            throw new InvalidOperationException($"{what}: decoded {Convert.ToHexString(decoded)} but encodes as {Convert.ToHexString(encoded)}");
    }
}
