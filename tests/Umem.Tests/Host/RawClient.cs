using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Host;

/// <summary>A client that writes protocol bytes itself, to send the host anything at all.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly SeqPacketChannel _channel;
    private readonly byte[] _buffer = new byte[Wire.MaxMessage];
    private uint _seq = 100;

    internal RawClient(string path) => _channel = SeqPacketChannel.Connect(path);

    internal byte[] LastReply { get; private set; } = [];

    internal List<SafeFd> Fds { get; } = [];

    internal uint NextSeq => ++_seq;

    /// <summary>HELLO then OPEN (O_RDWR by default); returns the handle.</summary>
    internal static RawClient Ready(string path, out ulong handle, uint oflags = 2)
    {
        var c = new RawClient(path);
        Assert.Equal(0, c.Request(b => new HelloRequest(1, 1).Write(b, 1)));
        Assert.Equal(0, c.Request(b => new OpenRequest(oflags).Write(b, 2)));
        handle = BinaryPrimitives.ReadUInt64LittleEndian(c.LastReply.AsSpan(Wire.ReplyPrefixSize));
        return c;
    }

    /// <summary>Sends what <paramref name="write"/> builds (with fds) and returns the reply's errno (-1: no reply, the host closed).</summary>
    internal int Request(Func<byte[], int> write, params SafeFd[] fds) => Send(_buffer.AsSpan(0, write(_buffer)).ToArray(), fds);

    /// <summary>Sends raw bytes; returns the reply's errno, or -1 when the connection ended instead.</summary>
    internal int Send(byte[] message, params SafeFd[] fds)
    {
        _channel.Send(message, fds);
        return Receive();
    }

    /// <summary>Sends raw bytes and reads nothing (a request with the no-reply bit).</summary>
    internal void SendOnly(byte[] message, params SafeFd[] fds) => _channel.Send(message, fds);

    internal int Receive()
    {
        foreach (var fd in Fds) fd.Dispose();
        Fds.Clear();
        var r = _channel.Receive(_buffer, Fds);
        LastReply = _buffer.AsSpan(0, r.Length).ToArray();
        if (r.EndOfStream) return -1;
        Assert.True(r.Length >= Wire.ReplyPrefixSize, $"a reply of {r.Length} bytes");
        return BinaryPrimitives.ReadInt32LittleEndian(LastReply.AsSpan(Wire.HeaderSize));
    }

    internal MessageHeader ReplyHeader => MessageHeader.ReadRaw(LastReply);

    /// <summary>True when the host has closed the connection (the next receive is end of stream).</summary>
    internal bool IsClosedByHost()
    {
        var r = _channel.Receive(_buffer, null);
        return r.EndOfStream;
    }

    /// <summary>An IOCTL echo works: the connection is still being served.</summary>
    internal bool StillServed(ulong handle) =>
        Request(b => new IoctlRequest(handle, Umem.TestDrivers.TestDeviceDriver.IoctlEcho, 8, 2).Write(b, NextSeq, [1, 2])) == 0;

    public void Dispose()
    {
        foreach (var fd in Fds) fd.Dispose();
        _channel.Dispose();
    }
}
