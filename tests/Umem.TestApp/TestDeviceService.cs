using System.Buffers.Binary;
using System.Collections.Concurrent;
using Umem.Host;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.TestApp;

/// <summary>What the test device saw: an unmap of part of a mapping, with the segdev_unmap case it was.</summary>
public sealed record UnmapEvent(long ClientId, long Mapping, long Offset, long Length, string Case);

/// <summary>
/// A real device for tests: <c>pages</c> pages of driver memory, one sealed memfd per page (mode 0600), all mapped
/// into this process as the "kernel" view, each page with its own maxprot. Read-only pages are granted through an
/// fd reopened O_RDONLY. Ioctls let a test drive the host side (fill, peek, fail, stats).
/// </summary>
public sealed class TestDeviceService : IDeviceService, IDisposable
{
    public const uint IoctlEcho = 1;
    public const uint IoctlFill = 2; // in: u32 page, u8 value
    public const uint IoctlPeek = 3; // in: u64 offset, u32 length; out: the bytes
    public const uint IoctlStats = 4; // out: i64 opens, mappings, buffers, allocated bytes, unmap events
    public const uint IoctlFail = 5; // in: i32 errno
    public const uint IoctlBufferPeek = 6; // in: u64 offset, u32 length; out: the bytes of this client's last buffer
    public const uint IoctlBufferFill = 7; // in: u64 offset, u32 length, u8 value

    private readonly SafeFd[] _rw;
    private readonly SafeFd?[] _ro;
    private readonly int[] _maxProt;
    private readonly MappedRegion _kernelView;
    private readonly Lock _gate = new();
    private readonly Stack<TestMapping> _spare = new();
    private long _opens, _mappings, _buffers, _lastMapping;

    public TestDeviceService(int[] maxProtPerPage, bool recordEvents = true)
    {
        _maxProt = maxProtPerPage;
        RecordEvents = recordEvents;
        int n = maxProtPerPage.Length;
        long page = SystemPage.Size;
        _rw = new SafeFd[n];
        _ro = new SafeFd?[n];
        _kernelView = MappedRegion.Reserve(n * page);
        for (int i = 0; i < n; i++)
        {
            _rw[i] = MemFd.CreateSealed($"umem-test-{i}", page);
            nint at = _kernelView.Address + (nint)(i * page);
            if (Interop.mmap(at, (nuint)page, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED | Interop.MAP_FIXED, _rw[i], 0) != at)
                throw new ErrnoException(Interop.LastErrno, "mmap(test device page)");
            if ((maxProtPerPage[i] & Interop.PROT_WRITE) == 0) _ro[i] = MemFd.ReopenReadOnly(_rw[i]);
        }
    }

    /// <summary>A device of 4 pages: 0 and 1 read-write, 2 and 3 read-only.</summary>
    public static TestDeviceService Default(bool recordEvents = true) => new([3, 3, 1, 1], recordEvents);

    public bool RecordEvents { get; }

    public long Size => _rw.Length * (long)SystemPage.Size;

    public ConcurrentQueue<Cred> Opened { get; } = new();

    public ConcurrentQueue<UnmapEvent> Unmaps { get; } = new();

    public ConcurrentQueue<ClientSession> Disconnects { get; } = new();

    public long LiveOpens => Interlocked.Read(ref _opens);

    public long LiveMappings => Interlocked.Read(ref _mappings);

    public long LiveBuffers => Interlocked.Read(ref _buffers);

    /// <summary>The driver's view of the device memory.</summary>
    public unsafe Span<byte> Kernel(long offset, int length) => new((byte*)_kernelView.Address + offset, length);

    public object Open(ClientSession client, MinorNode node, OpenMode mode)
    {
        Interlocked.Increment(ref _opens);
        if (RecordEvents) Opened.Enqueue(client.Cred);
        return mode;
    }

    public void Close(ClientSession client, object handle) => Interlocked.Decrement(ref _opens);

    public IDeviceMapping Map(ClientSession client, object handle, long offset, long length, int prot, int flags)
    {
        // devmap(9E): a range outside the device fails (ENXIO); without devmap_access, MAP_PRIVATE is EINVAL.
        if (offset >= Size || length > Size - offset) throw new ErrnoException(Errno.ENXIO, $"devmap(off={offset}, len={length})");
        if (flags == 2) throw new ErrnoException(Errno.EINVAL, "devmap_setup(MAP_PRIVATE)", "the device has no devmap_access");
        TestMapping m;
        lock (_gate)
        {
            m = _spare.TryPop(out var s) ? s : new TestMapping(this);
        }
        m.Reset(Interlocked.Increment(ref _lastMapping), offset, length);
        Interlocked.Increment(ref _mappings);
        return m;
    }

    public void Unmap(ClientSession client, IDeviceMapping mapping, long offset, long length)
    {
        var m = (TestMapping)mapping;
        string kind = m.Remove(offset, length);
        if (RecordEvents) Unmaps.Enqueue(new UnmapEvent(client.Id, m.Id, offset, length, kind));
        if (m.IsEmpty)
        {
            Interlocked.Decrement(ref _mappings);
            lock (_gate) _spare.Push(m);
        }
    }

    public IoctlResult Ioctl(ClientSession client, object handle, uint cmd, ReadOnlySpan<byte> input, Span<byte> output)
    {
        switch (cmd)
        {
            case IoctlEcho:
                input.CopyTo(output);
                return new IoctlResult(input.Length, input.Length);
            case IoctlFill:
                {
                    int page = BinaryPrimitives.ReadInt32LittleEndian(input);
                    if (page < 0 || page >= _rw.Length) throw new ErrnoException(Errno.EINVAL, "fill");
                    Kernel(page * (long)SystemPage.Size, SystemPage.Size).Fill(input[4]);
                    return new IoctlResult(0, 0);
                }
            case IoctlPeek:
                {
                    long off = BinaryPrimitives.ReadInt64LittleEndian(input);
                    int len = BinaryPrimitives.ReadInt32LittleEndian(input[8..]);
                    if (off < 0 || len < 0 || len > output.Length || off > Size - len) throw new ErrnoException(Errno.EINVAL, "peek");
                    Kernel(off, len).CopyTo(output);
                    return new IoctlResult(0, len);
                }
            case IoctlStats:
                BinaryPrimitives.WriteInt64LittleEndian(output, LiveOpens);
                BinaryPrimitives.WriteInt64LittleEndian(output[8..], LiveMappings);
                BinaryPrimitives.WriteInt64LittleEndian(output[16..], LiveBuffers);
                BinaryPrimitives.WriteInt64LittleEndian(output[24..], GC.GetTotalAllocatedBytes(precise: true));
                BinaryPrimitives.WriteInt64LittleEndian(output[32..], Unmaps.Count);
                return new IoctlResult(0, 40);
            case IoctlFail:
                throw new ErrnoException((Errno)BinaryPrimitives.ReadInt32LittleEndian(input), "test ioctl");
            case IoctlBufferPeek or IoctlBufferFill:
                {
                    var buffer = client.ServiceState as RegisteredBuffer ?? throw new ErrnoException(Errno.ENOENT, "no buffer registered");
                    long off = BinaryPrimitives.ReadInt64LittleEndian(input);
                    int len = BinaryPrimitives.ReadInt32LittleEndian(input[8..]);
                    if (off < 0 || len < 0 || off > buffer.Length - len) throw new ErrnoException(Errno.EINVAL, "buffer range");
                    if (cmd == IoctlBufferFill)
                    {
                        buffer.GetSpan(off, len).Fill(input[12]);
                        return new IoctlResult(0, 0);
                    }
                    if (len > output.Length) throw new ErrnoException(Errno.EINVAL, "buffer peek");
                    buffer.GetSpan(off, len).CopyTo(output);
                    return new IoctlResult(0, len);
                }
            default:
                throw new ErrnoException(Errno.ENOTTY, $"ioctl 0x{cmd:x}");
        }
    }

    public object Register(ClientSession client, RegisteredBuffer buffer)
    {
        Interlocked.Increment(ref _buffers);
        client.ServiceState = buffer;
        return buffer;
    }

    public void Unregister(ClientSession client, object buffer)
    {
        Interlocked.Decrement(ref _buffers);
        if (ReferenceEquals(client.ServiceState, buffer)) client.ServiceState = null;
    }

    public void Disconnected(ClientSession client)
    {
        if (RecordEvents) Disconnects.Enqueue(client);
    }

    public void Dispose()
    {
        _kernelView.Dispose();
        foreach (var fd in _rw) fd.Dispose();
        foreach (var fd in _ro) fd?.Dispose();
    }

    /// <summary>One mapping: one segment per page, each with its page's maxprot and fd.</summary>
    private sealed class TestMapping(TestDeviceService device) : IDeviceMapping
    {
        private readonly List<(long Start, long End)> _live = new(2);
        private long _offset;

        public long Id { get; private set; }

        public long Length { get; private set; }

        public int SegmentCount => (int)(Length / SystemPage.Size);

        public bool IsEmpty => _live.Count == 0;

        public void Reset(long id, long offset, long length)
        {
            Id = id;
            _offset = offset;
            Length = length;
            _live.Clear();
            _live.Add((0, length));
        }

        public MapSegment GetSegment(int index)
        {
            int page = (int)(_offset / SystemPage.Size) + index;
            int maxProt = device._maxProt[page];
            var fd = (maxProt & Interop.PROT_WRITE) != 0 ? device._rw[page] : device._ro[page]!;
            return new MapSegment(index * (long)SystemPage.Size, SystemPage.Size, fd, 0, maxProt);
        }

        public void MarkGranted()
        {
            // Test pages live as long as the device; nothing is ever reused for another allocation.
        }

        /// <summary>Forgets [offset, offset+length) and names the segdev_unmap case.</summary>
        public string Remove(long offset, long length)
        {
            long end = offset + length;
            for (int i = 0; i < _live.Count; i++)
            {
                var (s, e) = _live[i];
                if (offset < s || end > e) continue;
                if (offset == s && end == e)
                {
                    _live.RemoveAt(i);
                    return "whole";
                }
                if (offset == s)
                {
                    _live[i] = (end, e);
                    return "head";
                }
                if (end == e)
                {
                    _live[i] = (s, offset);
                    return "tail";
                }
                _live[i] = (s, offset);
                _live.Insert(i + 1, (end, e));
                return "hole";
            }
            throw new InvalidOperationException($"unmap of [{offset}, {end}) which is not mapped");
        }
    }
}
