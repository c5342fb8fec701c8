using System.Buffers.Binary;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

[assembly: UmemDriver(typeof(Umem.TestDrivers.RegionsDriver), "regions")]

namespace Umem.TestDrivers;

/// <summary>
/// A test driver with one node "regions&lt;instance&gt;" over <see cref="Pages"/> pages allocated at attach. Its
/// devmap exports one page per call, so a mapping of n pages has n handles; every page whose index is odd is
/// read-only (maxprot PROT_READ|PROT_USER), the others PROT_ALL. Its devmap_map/devmap_unmap callbacks count
/// what they see; ioctl <see cref="IocCounts"/> returns the counts, <see cref="IocWrite"/> and <see cref="IocFill"/>
/// write into the memory (the driver's side of the shared pages), <see cref="IocRealloc"/> frees it and allocates
/// new memory of the same shape.
/// </summary>
public sealed class RegionsDriver : Driver, IDevmap, IIoctl
{
    /// <summary>Pages the driver allocates per instance.</summary>
    public const int Pages = 4;

    /// <summary>ioctl: out = i32 maps, i32 unmaps, i32 live handles.</summary>
    public const int IocCounts = 0x5201;

    /// <summary>ioctl: in = i64 offset, u8 value: the driver writes value at offset of its memory.</summary>
    public const int IocWrite = 0x5202;

    /// <summary>ioctl: in = i64 offset; rval = the byte at that offset of the driver's memory.</summary>
    public const int IocRead = 0x5203;

    /// <summary>ioctl: in = i64 offset, i64 length, u8 value: the driver fills that range of its memory.</summary>
    public const int IocFill = 0x5204;

    /// <summary>
    /// ioctl: ddi_umem_free(9F) the memory and ddi_umem_alloc(9F) new memory of the same size and flags (what the
    /// allocator would hand back from its cache if it could). EBUSY while any devmap handle is live.
    /// </summary>
    public const int IocRealloc = 0x5205;

    private readonly SoftState<State> _state = new();
    private readonly Lock _gate = new();
    private int _maps, _unmaps, _live;

    public sealed class State
    {
        public UmemCookie? Cookie { get; set; }
    }

    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (_state.ZAlloc(dip.Instance) != DdiResult.Success) return DdiResult.Failure;
        _state.Get(dip.Instance)!.Cookie = dip.Context.Allocator.Alloc(Ptob(Pages), UmemFlags.Pageable);
        return dip.CreateMinorNode($"regions{dip.Instance}", SpecType.Char, (uint)dip.Instance, NodeTypes.Pseudo, NodeAccess.FromOctal("0666"));
    }

    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        var s = _state.Get(dip.Instance);
        if (s?.Cookie is { } c) dip.Context.Allocator.Free(c);
        _state.Free(dip.Instance);
        return DdiResult.Success;
    }

    protected override void Fini() => _state.Fini();

    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        var s = _state.Get(GetMinor(dev));
        if (s?.Cookie is null || off < 0 || off + len > Ptob(Pages)) return Errno.ENXIO;
        long page = Btop(off);
        Prot maxprot = page % 2 == 1 ? Prot.Read | Prot.User : Prot.All;
        var callbacks = new DevmapCallbacks { Map = OnMap, Unmap = OnUnmap };
        lock (_gate) // not while IocRealloc swaps the cookie
        {
            if (DevmapUmemSetup(dhp, null, callbacks, s.Cookie, off, Ptob(1), maxprot, DevmapFlags.Defaults, null) != DdiResult.Success)
                return Errno.ENXIO;
        }
        maplen = Ptob(1);
        return Errno.None;
    }

    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        var s = _state.Get(GetMinor(dev));
        lock (_gate) // the cookie stays put while an ioctl uses it
            return s?.Cookie is { } cookie ? IoctlLocked(s, cookie, cmd, ref arg, out rval) : Errno.ENXIO;
    }

    private Errno IoctlLocked(State s, UmemCookie cookie, int cmd, ref IoctlBuffer arg, out int rval)
    {
        rval = 0;
        switch (cmd)
        {
            case IocCounts:
                Span<byte> counts = stackalloc byte[12];
                BinaryPrimitives.WriteInt32LittleEndian(counts, Volatile.Read(ref _maps));
                BinaryPrimitives.WriteInt32LittleEndian(counts[4..], Volatile.Read(ref _unmaps));
                BinaryPrimitives.WriteInt32LittleEndian(counts[8..], Volatile.Read(ref _live));
                return arg.CopyOut(counts) == 0 ? Errno.None : Errno.EFAULT;
            case IocWrite:
            case IocRead:
                Span<byte> input = stackalloc byte[cmd == IocWrite ? 9 : 8];
                if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                long offset = BinaryPrimitives.ReadInt64LittleEndian(input);
                if (offset < 0 || offset >= cookie.Size) return Errno.EINVAL;
                if (cmd == IocWrite) cookie.GetSpan(offset, 1)[0] = input[8];
                else rval = cookie.GetSpan(offset, 1)[0];
                return Errno.None;
            case IocFill:
                Span<byte> fill = stackalloc byte[17];
                if (arg.CopyIn(fill) != 0) return Errno.EFAULT;
                long start = BinaryPrimitives.ReadInt64LittleEndian(fill), length = BinaryPrimitives.ReadInt64LittleEndian(fill[8..]);
                if (start < 0 || length < 0 || length > cookie.Size - start) return Errno.EINVAL;
                cookie.GetSpan(start, (int)length).Fill(fill[16]);
                return Errno.None;
            case IocRealloc:
                // ddi_umem_free(9F): the caller must make sure no mapping still uses the memory.
                if (Volatile.Read(ref _live) != 0) return Errno.EBUSY;
                Context.Allocator.Free(cookie);
                s.Cookie = Context.Allocator.Alloc(Ptob(Pages), UmemFlags.Pageable);
                return Errno.None;
            default:
                return Errno.ENOTTY;
        }
    }

    private Errno OnMap(DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp)
    {
        Interlocked.Increment(ref _maps);
        Interlocked.Increment(ref _live);
        pvtp = new HandleData(off, len);
        return Errno.None;
    }

    private void OnUnmap(DevmapHandle dhp, object? pvtp, long off, long len,
        DevmapHandle? newDhp1, ref object? newPvtp1, DevmapHandle? newDhp2, ref object? newPvtp2)
    {
        Interlocked.Increment(ref _unmaps);
        if (newDhp1 is null && newDhp2 is null) Interlocked.Decrement(ref _live);
        else if (newDhp1 is not null && newDhp2 is not null && !ReferenceEquals(newDhp2, dhp)) Interlocked.Increment(ref _live);
    }

    private sealed record HandleData(long Offset, long Length);
}
