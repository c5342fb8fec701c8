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
/// what they see; ioctl <see cref="IocCounts"/> returns the counts, <see cref="IocWrite"/> writes a byte into
/// the memory at an offset (the driver's side of the shared pages).
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

    private readonly SoftState<State> _state = new();
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
        if (DevmapUmemSetup(dhp, null, callbacks, s.Cookie, off, Ptob(1), maxprot, DevmapFlags.Defaults, null) != DdiResult.Success)
            return Errno.ENXIO;
        maplen = Ptob(1);
        return Errno.None;
    }

    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        var s = _state.Get(GetMinor(dev));
        if (s?.Cookie is null) return Errno.ENXIO;
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
                if (offset < 0 || offset >= s.Cookie.Size) return Errno.EINVAL;
                if (cmd == IocWrite) s.Cookie.GetSpan(offset, 1)[0] = input[8];
                else rval = s.Cookie.GetSpan(offset, 1)[0];
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
