using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.TestDrivers;

/// <summary>What the test device saw: an unmap of part of a region, with the segdev_unmap case it was.</summary>
/// <param name="Pid">The process whose mapping it was (curproc in the callback).</param>
/// <param name="Offset">The device offset unmapped.</param>
/// <param name="Length">Bytes unmapped.</param>
/// <param name="Case">"whole", "head", "tail" or "hole".</param>
public sealed record UnmapEvent(int Pid, long Offset, long Length, string Case);

/// <summary>One devmap_dup(9E) call: the inheriting process (curproc), the copy's device offset and length, and what the driver returned.</summary>
public sealed record DupEvent(int Pid, long Offset, long Length, Errno Result);

/// <summary>
/// The DDI driver the host's tests run against (loaded with modload into a real kernel, as the host serves every
/// driver): one node "test0" over <c>maxprot.Length</c> pages of ddi_umem_alloc memory, each page with its own
/// maxprot. Its devmap(9E) exports the run of pages of equal maxprot that starts at the offset asked for, so a
/// mapping has one region per run. Ioctls let a test drive the driver's side (fill, peek, fail, counts) and lock a
/// client's registered memory with ddi_umem_lock.
/// </summary>
/// <remarks>
/// Properties (driver.conf): <c>maxprot</c> ("3,3,1,1": PROT_* per page, the default), <c>mode</c> (octal, default
/// 0666), <c>uid</c> and <c>gid</c> (the node's owner, default 0), <c>events</c> (0: record no open or unmap events,
/// for the allocation gate), <c>leak</c> (1: detach does not free the memory, for modunload's leak report).
/// </remarks>
public sealed class TestDeviceDriver : Driver, IDevmap, IIoctl
{
    /// <summary>The node's name.</summary>
    public const string NodeName = "test0";

    /// <summary>ioctl: out = the input; rval = its length.</summary>
    public const int IoctlEcho = 1;

    /// <summary>ioctl: in = u32 page, u8 value: the driver fills that page.</summary>
    public const int IoctlFill = 2;

    /// <summary>ioctl: in = u64 offset, u32 length; out = those bytes of the device.</summary>
    public const int IoctlPeek = 3;

    /// <summary>ioctl: out = i64 opens, live regions, unmap events, this process's allocated bytes (GC).</summary>
    public const int IoctlStats = 4;

    /// <summary>ioctl: in = i32 errno: the driver returns it.</summary>
    public const int IoctlFail = 5;

    /// <summary>ioctl: in = u64 user address, u32 length; out = the caller's memory there (ddi_umem_lock, read).</summary>
    public const int IoctlBufferPeek = 6;

    /// <summary>ioctl: in = u64 user address, u32 length, u8 value: the driver writes the caller's memory there.</summary>
    public const int IoctlBufferFill = 7;

    private int[] _maxProt = [];
    private UmemCookie? _cookie;
    private DevmapCallbacks? _callbacks;
    private bool _recordEvents = true;
    private bool _leak;
    private long _opens, _regions, _unmaps;

    /// <summary>The pages' maxprot (PROT_*), as configured.</summary>
    public IReadOnlyList<int> MaxProt => _maxProt;

    /// <summary>The device's size in bytes.</summary>
    public long Size => Ptob(_maxProt.Length);

    /// <summary>Who opened the node, in order (when events are recorded).</summary>
    public ConcurrentQueue<Cred> Opened { get; } = new();

    /// <summary>Every devmap_unmap(9E) call, in order (when events are recorded).</summary>
    public ConcurrentQueue<UnmapEvent> Unmaps { get; } = new();

    /// <summary>Every devmap_dup(9E) call, in order (when events are recorded).</summary>
    public ConcurrentQueue<DupEvent> Dups { get; } = new();

    /// <summary>What devmap_dup(9E) returns (Errno.None: it succeeds).</summary>
    public Errno DupResult { get; set; }

    /// <summary>Files open on the node now.</summary>
    public long LiveOpens => Interlocked.Read(ref _opens);

    /// <summary>Devmap handles (regions) live now.</summary>
    public long LiveRegions => Interlocked.Read(ref _regions);

    /// <summary>The driver's view of the device memory.</summary>
    public Span<byte> Kernel(long offset, int length) => _cookie!.GetSpan(offset, length);

    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach) return DdiResult.Failure;
        string maxProt = dip.GetPropString("maxprot") ?? "3,3,1,1";
        _maxProt = [.. maxProt.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        _recordEvents = dip.GetPropInt("events", 1) != 0;
        _leak = dip.GetPropInt("leak", 0) != 0;
        var access = NodeAccess.FromOctal(dip.GetPropString("mode") ?? "0666",
            (uint)dip.GetPropInt("uid", 0), (uint)dip.GetPropInt("gid", 0));
        // Page grant units, explicitly: pages of different maxprot go to clients as separate memfds.
        _cookie = dip.Context.Allocator.Alloc(Size, UmemFlags.Sleep | UmemFlags.Pageable, grantPages: 1);
        return dip.CreateMinorNode(NodeName, SpecType.Char, 0, NodeTypes.Pseudo, access);
    }

    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (_cookie is { } c && !_leak) dip.Context.Allocator.Free(c); // leak=1: left for modunload's leak report
        _cookie = null;
        return DdiResult.Success;
    }

    protected override Errno Open(ref DevT devp, OpenFlags flag, OpenType otyp, Cred credp)
    {
        Interlocked.Increment(ref _opens);
        if (_recordEvents) Opened.Enqueue(credp);
        return Errno.None;
    }

    protected override Errno Close(DevT dev, OpenFlags flag, OpenType otyp, Cred credp)
    {
        Interlocked.Decrement(ref _opens);
        return Errno.None;
    }

    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        if (_cookie is null || off < 0 || len <= 0 || off >= Size || len > Size - off) return Errno.ENXIO;
        // The run of pages with the same maxprot as the first, within the request.
        long first = Btop(off), end = Btop(off + len);
        long last = first + 1;
        while (last < end && _maxProt[last] == _maxProt[first]) last++;
        Prot maxprot = (Prot)_maxProt[first] | Prot.User;
        if (DevmapUmemSetup(dhp, null, _callbacks ??= new DevmapCallbacks { Map = OnMap, Unmap = OnUnmap, Dup = OnDup }, _cookie, Ptob(first), Ptob(last - first), maxprot, DevmapFlags.Defaults, null) != DdiResult.Success)
            return Errno.ENXIO;
        maplen = Ptob(last - first);
        return Errno.None;
    }

    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        switch (cmd)
        {
            case IoctlEcho:
                rval = arg.Input.Length;
                return arg.CopyOut(arg.Input) == 0 ? Errno.None : Errno.EFAULT;
            case IoctlFill:
                {
                    Span<byte> input = stackalloc byte[5];
                    if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                    int page = BinaryPrimitives.ReadInt32LittleEndian(input);
                    if (page < 0 || page >= _maxProt.Length) return Errno.EINVAL;
                    Kernel(Ptob(page), (int)Ptob(1)).Fill(input[4]);
                    return Errno.None;
                }
            case IoctlPeek:
                {
                    Span<byte> input = stackalloc byte[12];
                    if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                    long off = BinaryPrimitives.ReadInt64LittleEndian(input);
                    int len = BinaryPrimitives.ReadInt32LittleEndian(input[8..]);
                    if (off < 0 || len < 0 || off > Size - len) return Errno.EINVAL;
                    return arg.CopyOut(Kernel(off, len)) == 0 ? Errno.None : Errno.EFAULT;
                }
            case IoctlStats:
                {
                    Span<byte> stats = stackalloc byte[32];
                    BinaryPrimitives.WriteInt64LittleEndian(stats, LiveOpens);
                    BinaryPrimitives.WriteInt64LittleEndian(stats[8..], LiveRegions);
                    BinaryPrimitives.WriteInt64LittleEndian(stats[16..], Interlocked.Read(ref _unmaps));
                    BinaryPrimitives.WriteInt64LittleEndian(stats[24..], GC.GetTotalAllocatedBytes(precise: true));
                    return arg.CopyOut(stats) == 0 ? Errno.None : Errno.EFAULT;
                }
            case IoctlFail:
                {
                    Span<byte> input = stackalloc byte[4];
                    return arg.CopyIn(input) != 0 ? Errno.EFAULT : (Errno)BinaryPrimitives.ReadInt32LittleEndian(input);
                }
            case IoctlBufferPeek or IoctlBufferFill:
                return BufferIoctl(cmd, ref arg);
            default:
                return Errno.ENOTTY;
        }
    }

    /// <summary>ddi_umem_lock(9F) of the caller's memory, then a read or a write of it through the lock, then unlock.</summary>
    private static Errno BufferIoctl(int cmd, ref IoctlBuffer arg)
    {
        Span<byte> input = stackalloc byte[13];
        if (arg.CopyIn(input[..(cmd == IoctlBufferFill ? 13 : 12)]) != 0) return Errno.EFAULT;
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(input);
        int len = BinaryPrimitives.ReadInt32LittleEndian(input[8..]);
        if (len <= 0) return Errno.EINVAL;
        ulong start = address & ~(ulong)(SystemPage.Size - 1);
        long lockLength = Ptob(Btopr((long)(address - start) + len));
        var flags = cmd == IoctlBufferFill ? UmemLockFlags.Write : UmemLockFlags.Read;
        var curproc = UmemProcess.Current;
        if (curproc is null) return Errno.EFAULT;
        Errno rc = UmemLock.TryLock(curproc, start, lockLength, flags, out var cookie);
        if (rc != Errno.None) return rc;
        try
        {
            var memory = cookie!.GetSpan((long)(address - start), len);
            if (cmd == IoctlBufferFill)
            {
                memory.Fill(input[12]);
                return Errno.None;
            }
            return arg.CopyOut(memory) == 0 ? Errno.None : Errno.EFAULT;
        }
        finally
        {
            UmemLock.Unlock(cookie!);
        }
    }

    private Errno OnMap(DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp)
    {
        Interlocked.Increment(ref _regions);
        pvtp = null;
        return Errno.None;
    }

    private Errno OnDup(DevmapHandle dhp, object? pvtp, DevmapHandle newDhp, out object? newPvtp)
    {
        newPvtp = null;
        if (_recordEvents) Dups.Enqueue(new DupEvent(UmemProcess.Current?.Cred.Pid ?? 0, newDhp.Offset, newDhp.Length, DupResult));
        if (DupResult != Errno.None) return DupResult;
        Interlocked.Increment(ref _regions); // the copy is a region of its own until its devmap_unmap
        return Errno.None;
    }

    private void OnUnmap(DevmapHandle dhp, object? pvtp, long off, long len,
        DevmapHandle? newDhp1, ref object? newPvtp1, DevmapHandle? newDhp2, ref object? newPvtp2)
    {
        // segdev_unmap's four cases, told apart by which new handles the framework passes.
        string kind = (newDhp1, newDhp2) switch
        {
            (null, null) => "whole",
            (null, _) => "head",
            (_, null) => "tail",
            _ => "hole",
        };
        if (kind == "whole") Interlocked.Decrement(ref _regions);
        else if (kind == "hole") Interlocked.Increment(ref _regions);
        Interlocked.Increment(ref _unmaps);
        if (_recordEvents) Unmaps.Enqueue(new UnmapEvent(UmemProcess.Current?.Cred.Pid ?? 0, off, len, kind));
    }
}
