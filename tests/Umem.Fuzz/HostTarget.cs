using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Umem.Host;
using Umem.Kernel.Modules;
using Umem.Platform;
using Umem.Protocol;
using Umem.TestDrivers;

namespace Umem.Fuzz;

/// <summary>
/// A real device host in this process (kernel, allocator, <see cref="TestDeviceDriver"/> on node test0) fed one
/// arbitrary message per connection over a real SEQPACKET socket. The first input byte chooses what happens before
/// it (bit 0 HELLO, bit 1 OPEN, bit 2 MMAP of one page, bit 3 the handle or mapping id written at bytes 16–23 of
/// the message, bit 4 a sealed memfd sent with it, bit 5 REGISTER a buffer first); the rest is the message.
/// </summary>
/// <remarks>
/// A finding is anything but this: every message the host sends is a well-formed reply (valid header, reply bit,
/// the seq of a request sent, errno 0 or a failure of exactly 20 bytes, MMAP fds 1–250 per message); a probe
/// request sent after the message is answered, or the connection is closed; the host logs no internal error
/// (an exception from the kernel, answered EIO); and once the connection ends, nothing of it is left: no mapping,
/// no open file, no registered buffer, no session.
/// </remarks>
public sealed class HostTarget : IAsyncDisposable
{
    private const uint ProbeSeq = 0xFFFF_FFF0;
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(10);
    private readonly string _directory;
    private readonly UmemSystem _system;
    private readonly TestDeviceDriver _driver;
    private readonly ErrorLog _errors;
    private readonly string _path;
    private readonly byte[] _send = new byte[Wire.MaxMessage + 4096];
    private readonly byte[] _receive = new byte[Wire.MaxMessage];
    private readonly List<SafeFd> _fds = [];

    private HostTarget(string directory, UmemSystem system, TestDeviceDriver driver, ErrorLog errors)
    {
        _directory = directory;
        _errors = errors;
        _system = system;
        _driver = driver;
        _path = system.NodePath(TestDeviceDriver.NodeName);
    }

    public static HostTarget Start()
    {
        string dir = Directory.CreateTempSubdirectory("umem-fuzz-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        var errors = new ErrorLog();
        // A mapping DUP_PREPARE issued a token for outlives its connection until the token expires: a short lifetime
        // keeps the release check below quick.
        var options = new DeviceHostOptions { DeviceDirectory = Path.Combine(dir, "dev"), InheritTokenLifetime = TimeSpan.FromMilliseconds(20) };
        var system = UmemSystem.Start(new UmemSystemOptions { Host = options }, errors);
        var driver = new TestDeviceDriver();
        try
        {
            system.Kernel.ModLoad("testdev", () => driver, new ModuleOptions { Properties = new Dictionary<string, string> { ["events"] = "0" } });
        }
        catch
        {
            system.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return new HostTarget(dir, system, driver, errors);
    }

    public void Run(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        byte mode = data[0];
        var message = data[1..Math.Min(data.Length, _send.Length + 1)];
        using (var channel = SeqPacketChannel.Connect(_path))
        {
            Exchange(channel, mode, message);
        }
        // The connection is gone: the host must release everything it held for it.
        var deadline = DateTime.UtcNow + s_guard;
        while (_system.Devices.ConnectionCount > 0)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("the host did not release a closed connection");
            Thread.Sleep(0);
        }
        // A mapping kept for a forked child (DUP_PREPARE) goes when its token expires.
        while (_system.Kernel.GetMappings().Count != 0 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        int mappings = _system.Kernel.GetMappings().Count;
        if (mappings != 0 || _driver.LiveOpens != 0 || _driver.LiveRegions != 0)
            throw new InvalidOperationException($"left behind: {mappings} mappings, {_driver.LiveOpens} opens, {_driver.LiveRegions} regions");
        lock (_errors.Lines)
        {
            if (_errors.Lines.Count > 0) throw new InvalidOperationException("the host logged an internal error: " + string.Join("; ", _errors.Lines));
        }
    }

    private void Exchange(SeqPacketChannel channel, byte mode, ReadOnlySpan<byte> message)
    {
        bool hello = (mode & 1) != 0, open = hello && (mode & 2) != 0, map = open && (mode & 4) != 0;
        ulong handle = 0, mapping = 0;
        if (hello) Request(channel, new HelloRequest(Wire.Version, Wire.Version).Write(_send, 1), MessageType.Hello, 1);
        if (open) handle = BinaryPrimitives.ReadUInt64LittleEndian(Request(channel, new OpenRequest(2).Write(_send, 2), MessageType.Open, 2));
        if (map)
            mapping = BinaryPrimitives.ReadUInt64LittleEndian(Request(channel, new MmapRequest(handle, 0, (ulong)SystemPage.Size, 3, Wire.MapShared).Write(_send, 3), MessageType.Mmap, 3));
        if (hello && (mode & 32) != 0)
        {
            using var memfd = MemFd.CreateSealed("umem-fuzz", SystemPage.Size);
            // The address is the client's to choose; the host maps the memfd and records it.
            Request(channel, new RegisterRequest(0x7000_0000_0000, (ulong)SystemPage.Size, 0).Write(_send, 4), MessageType.Register, 4, memfd);
        }

        message.CopyTo(_send);
        if ((mode & 8) != 0 && message.Length >= 24)
            BinaryPrimitives.WriteUInt64LittleEndian(_send.AsSpan(16), map ? mapping : handle);
        using var fd = (mode & 16) != 0 ? MemFd.CreateSealed("umem-fuzz", SystemPage.Size) : null;
        uint seq = message.Length >= Wire.HeaderSize ? BinaryPrimitives.ReadUInt32LittleEndian(message[12..]) : 0;
        if (!TrySend(channel, _send.AsSpan(0, message.Length), fd)) return;
        // A probe the host must answer (or close): HELLO while none was said, else an OPEN.
        int probe = hello ? new OpenRequest(0).Write(_send, ProbeSeq) : new HelloRequest(Wire.Version, Wire.Version).Write(_send, ProbeSeq);
        bool probeSent = TrySend(channel, _send.AsSpan(0, probe), null);
        while (true)
        {
            if (!channel.PollReadable(s_guard)) throw new InvalidOperationException("the host neither answered nor closed the connection");
            var r = ReceiveOne(channel);
            if (r.EndOfStream) return;
            var reply = _receive.AsSpan(0, r.Length);
            CheckReply(reply, r.FdCount, seq);
            if (probeSent && MessageHeader.ReadRaw(reply).Seq == ProbeSeq) return;
        }
    }

    private ReadOnlySpan<byte> Request(SeqPacketChannel channel, int length, MessageType type, uint seq, SafeFd? fd = null)
    {
        channel.Send(_send.AsSpan(0, length), fd is null ? default : [fd]);
        var r = ReceiveOne(channel);
        var reply = _receive.AsSpan(0, r.Length);
        if (Reply.TryReadPrefix(reply, type, seq, out int errno) != Errno.None || errno != 0)
            throw new InvalidOperationException($"the set-up {type} failed: errno {errno}, {Convert.ToHexString(reply)}");
        if (type == MessageType.Mmap && MmapReply.TryRead(reply, SystemPage.Size, out var m) == Errno.None && m.SegmentCount > Wire.MaxFds)
            throw new InvalidOperationException("a one-page mapping in more than 250 segments");
        return reply[Wire.ReplyPrefixSize..];
    }

    private ReceiveResult ReceiveOne(SeqPacketChannel channel)
    {
        ReceiveResult r;
        try
        {
            r = channel.Receive(_receive, _fds);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ECONNRESET)
        {
            return default; // the host closed with our probe unread: as good as end of stream
        }
        foreach (var fd in _fds) fd.Dispose();
        _fds.Clear();
        if (r.Truncated || r.ControlTruncated) throw new InvalidOperationException("a reply larger than the protocol allows");
        return r;
    }

    private static bool TrySend(SeqPacketChannel channel, ReadOnlySpan<byte> message, SafeFd? fd)
    {
        try
        {
            channel.Send(message, fd is null ? default : [fd]);
            return true;
        }
        catch (ErrnoException e) when (e.Errno is Errno.EPIPE or Errno.ECONNRESET or Errno.EMSGSIZE)
        {
            return false; // the host closed the connection already, or the kernel refused a message this large
        }
    }

    /// <summary>docs/protocol.md: what every message from the host must look like.</summary>
    private static void CheckReply(ReadOnlySpan<byte> reply, int fds, uint seq)
    {
        string Hex(ReadOnlySpan<byte> m) => Convert.ToHexString(m[..Math.Min(m.Length, 64)]);
        if (MessageHeader.TryRead(reply, out var h) != Errno.None || !h.IsReply || h.NoReply)
            throw new InvalidOperationException($"a malformed message from the host: {Hex(reply)}");
        if (h.Seq != seq && h.Seq != ProbeSeq && h.Seq != 0)
            throw new InvalidOperationException($"a reply with seq {h.Seq}, sent {seq} and {ProbeSeq}: {Hex(reply)}");
        if (reply.Length < Wire.ReplyPrefixSize) throw new InvalidOperationException($"a reply without errno: {Hex(reply)}");
        int errno = BinaryPrimitives.ReadInt32LittleEndian(reply[Wire.HeaderSize..]);
        if (errno < 0 || errno > 4095 || (errno != 0 && reply.Length != Wire.ReplyPrefixSize))
            throw new InvalidOperationException($"a reply with errno {errno} in {reply.Length} bytes: {Hex(reply)}");
        bool mmap = errno == 0 && h.Type is MessageType.Mmap or MessageType.MmapMore;
        if (mmap ? fds is < 1 or > Wire.MaxFds : fds != 0)
            throw new InvalidOperationException($"a {h.Type} reply with {fds} fds: {Hex(reply)}");
    }

    public async ValueTask DisposeAsync()
    {
        await _system.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Collects the host's Error and Critical log lines: an exception the kernel did not expect.</summary>
    private sealed class ErrorLog : ILoggerFactory, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Error) return;
            lock (Lines) Lines.Add($"{formatter(state, exception)} {exception}");
        }

        public void Dispose()
        {
        }
    }
}
