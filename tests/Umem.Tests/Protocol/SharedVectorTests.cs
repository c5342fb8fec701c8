using System.Globalization;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Protocol;

/// <summary>
/// The C# protocol layer against tests/vectors/protocol.txt, the same file the C client's test_vectors.c reads:
/// every request and reply is encoded from its fields and compared byte for byte, decoded and compared field by
/// field, and every bad.* reply is refused with the errno the file names. The two clients cannot drift apart.
/// </summary>
public sealed class SharedVectorTests
{
    private const int PageSize = 4096; // the vectors are written for 4 KiB pages

    public static TheoryData<string> Requests => Names("req.");

    public static TheoryData<string> Replies => Names("rep.");

    public static TheoryData<string> Malformed => Names("bad.");

    [Theory]
    [MemberData(nameof(Requests))]
    public void RequestsEncodeAndDecodeAsTheVectorsSay(string name)
    {
        var (f, bytes) = Vectors[name];
        var buffer = new byte[Wire.MaxMessage];
        uint seq = U32(f["seq"]);
        uint rawType = U32(f["type"]);
        bool noReply = (rawType & Wire.NoReplyBit) != 0;
        var type = (MessageType)(rawType & ~(uint)Wire.NoReplyBit);
        Assert.Equal(Errno.None, MessageHeader.TryRead(bytes, out var header));
        Assert.Equal((type, noReply), (header.Type, header.NoReply));
        int n;
        switch (type)
        {
            case MessageType.Hello:
                n = new HelloRequest((ushort)U32(f["min_version"]), (ushort)U32(f["max_version"])).Write(buffer, seq);
                Assert.Equal(Errno.None, HelloRequest.TryRead(bytes, out var hello));
                Assert.Equal(U32(f["max_version"]), hello.MaxVersion);
                break;
            case MessageType.Open:
                n = new OpenRequest(U32(f["oflags"])).Write(buffer, seq);
                Assert.Equal(Errno.None, OpenRequest.TryRead(bytes, out var open));
                Assert.Equal(U32(f["oflags"]), open.OFlags);
                break;
            case MessageType.Close or MessageType.Unregister:
                string key = type == MessageType.Close ? "handle" : "buffer";
                n = new IdRequest(type, U64(f[key])).Write(buffer, seq);
                Assert.Equal(Errno.None, IdRequest.TryRead(bytes, type, out var id));
                Assert.Equal(U64(f[key]), id.Id);
                break;
            case MessageType.Mmap:
                var mmap = new MmapRequest(U64(f["handle"]), U64(f["offset"]), U64(f["length"]), U32(f["prot"]), U32(f["flags"]));
                n = mmap.Write(buffer, seq);
                Assert.Equal(Errno.None, MmapRequest.TryRead(bytes, PageSize, out var mmapRead));
                Assert.Equal(mmap, mmapRead);
                break;
            case MessageType.Munmap:
                var munmap = new MunmapRequest(U64(f["mapping"]), U64(f["offset"]), U64(f["length"]));
                n = munmap.Write(buffer, seq, noReply);
                Assert.Equal(Errno.None, MunmapRequest.TryRead(bytes, PageSize, out var munmapRead));
                Assert.Equal(munmap, munmapRead);
                break;
            case MessageType.Ioctl:
                byte[] input = f.TryGetValue("in", out var hex) ? Convert.FromHexString(hex) : [];
                var ioctl = new IoctlRequest(U64(f["handle"]), U32(f["cmd"]), U32(f["out_max"]), (uint)input.Length);
                n = ioctl.Write(buffer, seq, input);
                Assert.Equal(Errno.None, IoctlRequest.TryRead(bytes, out var ioctlRead));
                Assert.Equal(ioctl, ioctlRead);
                Assert.Equal(input, IoctlRequest.Input(bytes).ToArray());
                break;
            case MessageType.Register:
                var reg = new RegisterRequest(U64(f["address"]), U64(f["length"]), U32(f["flags"]));
                n = reg.Write(buffer, seq);
                Assert.Equal(Errno.None, RegisterRequest.TryRead(bytes, PageSize, out var regRead));
                Assert.Equal(reg, regRead);
                break;
            case MessageType.Read or MessageType.Write:
                byte[] data = f.TryGetValue("data", out var dataHex) ? Convert.FromHexString(dataHex) : [];
                var io = new IoRequest(type, U64(f["handle"]), U64(f["offset"]), U32(f["length"]), U32(f["flags"]));
                n = io.Write(buffer, seq, data);
                Assert.Equal(Errno.None, IoRequest.TryRead(bytes, type, out var ioRead));
                Assert.Equal(io, ioRead);
                Assert.Equal(data, type == MessageType.Write ? IoRequest.Data(bytes).ToArray() : []);
                break;
            case MessageType.DupPrepare:
                n = new IdRequest(type, U64(f["mapping"])).Write(buffer, seq);
                Assert.Equal(Errno.None, IdRequest.TryRead(bytes, type, out var dup));
                Assert.Equal(U64(f["mapping"]), dup.Id);
                break;
            case MessageType.Inherit:
                var inherit = new InheritRequest(U64(f["handle"]), InheritToken.FromHex(f["token"]));
                n = inherit.Write(buffer, seq);
                Assert.Equal(Errno.None, InheritRequest.TryRead(bytes, out var inheritRead));
                Assert.Equal(inherit, inheritRead);
                break;
            case MessageType.Poll:
                var poll = new PollRequest(U64(f["handle"]), (ushort)U32(f["events"]), (ushort)U32(f["flags"]));
                n = poll.Write(buffer, seq);
                Assert.Equal(Errno.None, PollRequest.TryRead(bytes, out var pollRead));
                Assert.Equal(poll, pollRead);
                break;
            default:
                throw new InvalidOperationException($"{name}: no request type {type}");
        }
        Assert.Equal(Convert.ToHexStringLower(bytes), Convert.ToHexStringLower(buffer.AsSpan(0, n)));
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void RepliesEncodeAndDecodeAsTheVectorsSay(string name)
    {
        var (f, bytes) = Vectors[name];
        var buffer = new byte[Wire.MaxMessage];
        uint seq = U32(f["seq"]);
        var type = (MessageType)(U32(f["type"]) & ~(uint)Wire.ReplyBit);
        int errno = int.Parse(f["errno"], CultureInfo.InvariantCulture);
        Assert.Equal(Errno.None, Decode(bytes, out int decodedErrno));
        Assert.Equal(errno, decodedErrno);
        int n;
        if (errno != 0)
        {
            n = Reply.WriteError(buffer, type, seq, errno);
        }
        else
        {
            switch (type)
            {
                case MessageType.Hello:
                    var hello = new HelloReply((ushort)U32(f["version"]), U32(f["page_size"]), U32(f["max_message"]), U32(f["max_fds"]));
                    n = hello.Write(buffer, seq);
                    Assert.Equal(Errno.None, HelloReply.TryRead(bytes, out var h));
                    Assert.Equal(hello, h);
                    break;
                case MessageType.Open:
                    n = new OpenReply(U64(f["handle"])).Write(buffer, seq);
                    Assert.Equal(Errno.None, OpenReply.TryRead(bytes, out var o));
                    Assert.Equal(U64(f["handle"]), o.Handle);
                    break;
                case MessageType.Close or MessageType.Munmap or MessageType.Unregister:
                    n = Reply.WriteEmpty(buffer, type, seq);
                    break;
                case MessageType.Mmap:
                    var mmap = new MmapReply(U64(f["mapping"]), U64(f["length"]), U32(f["nseg"]));
                    n = mmap.WriteFixed(buffer, seq);
                    Assert.Equal(Errno.None, MmapReply.TryRead(bytes, PageSize, out var m));
                    Assert.Equal(mmap, m);
                    for (int i = 0; i < (int)mmap.SegmentCount; i++)
                    {
                        var s = new MmapSegment(U64(f[$"seg{i}.offset"]), U64(f[$"seg{i}.length"]), U64(f[$"seg{i}.fd_offset"]),
                            U32(f[$"seg{i}.maxprot"]), U32(f[$"seg{i}.fd_index"]));
                        s.Write(MmapReply.SegmentSlot(buffer, i));
                        Assert.Equal(s, MmapReply.ReadSegment(bytes, i));
                    }
                    break;
                case MessageType.MmapMore:
                    var more = new MmapMore(U32(f["first"]), U32(f["count"]));
                    n = more.Write(buffer, seq);
                    Assert.Equal(Errno.None, MmapMore.TryRead(bytes, out var mm));
                    Assert.Equal(more, mm);
                    break;
                case MessageType.Ioctl:
                    byte[] output = f.TryGetValue("out", out var hex) ? Convert.FromHexString(hex) : [];
                    var ioctl = new IoctlReply(int.Parse(f["rval"], CultureInfo.InvariantCulture), (uint)output.Length);
                    n = ioctl.WriteFixed(buffer, seq); // the whole length; the output bytes follow the fixed part
                    output.CopyTo(buffer.AsSpan(IoctlReply.FixedSize));
                    Assert.Equal(Errno.None, IoctlReply.TryRead(bytes, (uint)Wire.MaxIoctlData, out var io));
                    Assert.Equal(ioctl, io);
                    Assert.Equal(output, IoctlReply.Output(bytes).ToArray());
                    break;
                case MessageType.Register:
                    n = new RegisterReply(U64(f["buffer"])).Write(buffer, seq);
                    Assert.Equal(Errno.None, RegisterReply.TryRead(bytes, out var r));
                    Assert.Equal(U64(f["buffer"]), r.Buffer);
                    break;
                case MessageType.Read or MessageType.Write:
                    byte[] data = f.TryGetValue("data", out var dataHex) ? Convert.FromHexString(dataHex) : [];
                    var ioReply = new IoReply(type, U32(f["count"]));
                    data.CopyTo(buffer.AsSpan(IoReply.FixedSize)); // a READ's data is in place before the fixed part is written
                    n = ioReply.WriteFixed(buffer, seq);
                    Assert.Equal(Errno.None, IoReply.TryRead(bytes, type, (uint)Wire.MaxIoData, out var ior));
                    Assert.Equal(ioReply, ior);
                    Assert.Equal(data, IoReply.Data(bytes).ToArray());
                    break;
                case MessageType.DupPrepare:
                    var prepared = new DupPrepareReply(InheritToken.FromHex(f["token"]));
                    n = prepared.Write(buffer, seq);
                    Assert.Equal(Errno.None, DupPrepareReply.TryRead(bytes, out var dr));
                    Assert.Equal(prepared, dr);
                    break;
                case MessageType.Inherit:
                    var inherited = new InheritReply(U64(f["mapping"]), U64(f["length"]));
                    n = inherited.Write(buffer, seq);
                    Assert.Equal(Errno.None, InheritReply.TryRead(bytes, out var ir));
                    Assert.Equal(inherited, ir);
                    break;
                case MessageType.Poll:
                    var pollReply = new PollReply((ushort)U32(f["revents"]), U32(f["armed"]) == 1);
                    n = pollReply.Write(buffer, seq);
                    Assert.Equal(Errno.None, PollReply.TryRead(bytes, out var pr));
                    Assert.Equal(pollReply, pr);
                    break;
                case MessageType.Event:
                    var ev = new PollEvent(U64(f["handle"]), (ushort)U32(f["revents"]));
                    n = ev.Write(buffer, seq);
                    Assert.Equal(Errno.None, PollEvent.TryRead(bytes, out var evRead, out uint evSeq));
                    Assert.Equal((ev, seq), (evRead, evSeq));
                    break;
                default:
                    throw new InvalidOperationException($"{name}: no reply type {type}");
            }
        }
        Assert.Equal(Convert.ToHexStringLower(bytes), Convert.ToHexStringLower(buffer.AsSpan(0, n)));
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedRepliesAreRefusedWithTheNamedErrno(string name)
    {
        var (f, bytes) = Vectors[name];
        var expected = Enum.Parse<Errno>(f["expect"]);
        Assert.Equal(expected, Decode(bytes, out _));
    }

    [Fact]
    public void EveryMessageTypeHasVectors()
    {
        foreach (var t in new[] { "hello", "open", "close", "mmap", "munmap", "ioctl", "register", "unregister", "read", "write", "dup_prepare", "inherit", "poll" })
        {
            Assert.Contains(Vectors.Keys, k => k.StartsWith($"req.{t}", StringComparison.Ordinal));
            Assert.Contains(Vectors.Keys, k => k.StartsWith($"rep.{t}", StringComparison.Ordinal));
        }
        Assert.Contains("rep.mmap_more", Vectors.Keys);
        Assert.Contains("rep.event", Vectors.Keys);
    }

    /// <summary>
    /// What the C# client does with a reply before it trusts it: the header, the reply prefix (same type and seq as
    /// the header says here, since each vector stands alone), then the type's own validation.
    /// </summary>
    private static Errno Decode(byte[] message, out int errno)
    {
        errno = 0;
        var error = MessageHeader.TryRead(message, out var header);
        if (error != Errno.None) return error;
        if (!header.IsReply || header.Type is < MessageType.Hello or > MessageType.Event)
            return Errno.EPROTO;
        error = Reply.TryReadPrefix(message, header.Type, header.Seq, out errno);
        if (error != Errno.None || errno != 0)
        {
            // A failure is only ever reported in the first reply of a mapping (docs/protocol.md, MMAP); an EVENT never fails.
            return error == Errno.None && header.Type is MessageType.MmapMore or MessageType.Event ? Errno.EBADMSG : error;
        }
        return header.Type switch
        {
            MessageType.Hello => HelloReply.TryRead(message, out _),
            MessageType.Open => OpenReply.TryRead(message, out _),
            MessageType.Mmap => MmapReply.TryRead(message, PageSize, out _),
            MessageType.MmapMore => MmapMore.TryRead(message, out _),
            MessageType.Read or MessageType.Write => IoReply.TryRead(message, header.Type, (uint)Wire.MaxIoData, out _),
            MessageType.Ioctl => IoctlReply.TryRead(message, (uint)Wire.MaxIoctlData, out _),
            MessageType.Register => RegisterReply.TryRead(message, out _),
            MessageType.DupPrepare => DupPrepareReply.TryRead(message, out _),
            MessageType.Inherit => InheritReply.TryRead(message, out _),
            MessageType.Poll => PollReply.TryRead(message, out _),
            MessageType.Event => PollEvent.TryRead(message, out _, out _),
            _ => message.Length == Wire.ReplyPrefixSize ? Errno.None : Errno.EBADMSG,
        };
    }

    private static readonly Dictionary<string, (Dictionary<string, string> Fields, byte[] Bytes)> Vectors = Load();

    private static TheoryData<string> Names(string prefix) => [.. Vectors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))];

    private static Dictionary<string, (Dictionary<string, string>, byte[])> Load()
    {
        string? path = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null && path is null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "tests", "vectors", "protocol.txt");
            if (File.Exists(p)) path = p;
        }
        Assert.NotNull(path);
        var result = new Dictionary<string, (Dictionary<string, string>, byte[])>();
        Dictionary<string, string>? pending = null;
        string? pendingName = null;
        foreach (var raw in File.ReadLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                string head = colon > 0 ? line[1..colon].Trim() : "";
                if (head.Length > 0 && !head.Contains(' ', StringComparison.Ordinal) && head.Contains('.', StringComparison.Ordinal))
                {
                    pendingName = head;
                    pending = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
                }
                continue;
            }
            var parts = line.Split(' ', 2);
            Assert.True(parts[0] == pendingName, $"vector {parts[0]} has no field line right before it");
            result[parts[0]] = (pending!, Convert.FromHexString(parts[1]));
            pending = null;
            pendingName = null;
        }
        return result;
    }

    private static uint U32(string v) => (uint)Num(v);

    private static ulong U64(string v) => (ulong)Num(v);

    private static long Num(string v) => v.StartsWith("0x", StringComparison.Ordinal)
        ? (long)ulong.Parse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : long.Parse(v, CultureInfo.InvariantCulture);
}
