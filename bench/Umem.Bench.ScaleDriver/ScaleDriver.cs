using System.Buffers.Binary;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

[assembly: UmemDriver(typeof(Umem.Bench.ScaleDriver.ScaleDriver), "scale")]

namespace Umem.Bench.ScaleDriver;

/// <summary>
/// The scale benchmark's driver: node "scale0" over as many one-page cookies as a client asks for
/// (<see cref="ScaleIoctl.Alloc"/>). Page k of the device is cookie k, whose first four bytes hold k, so a client can
/// check that it mapped the page it asked for. A mapping of n pages is n devmap handles over n cookies. Its second
/// node, "large0" (minor 1), serves cookies of any size (<see cref="LargeCookies"/>).
/// </summary>
public sealed class ScaleDriver : Driver, IDevmap, IIoctl
{
    private readonly Lock _gate = new();

    // Copy-on-grow: devmap(9E) runs on many connections at once and reads a snapshot without the lock.
    private UmemCookie[] _cookies = [];
    private DevInfo? _dip;
    private LargeCookies? _large;

    private const uint LargeMinor = 1;

    /// <summary>attach(9E): instance 0 only; node "scale0", mode 0666. No memory yet.</summary>
    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach || dip.Instance != 0) return DdiResult.Failure;
        _dip = dip;
        if (dip.CreateMinorNode(ScaleIoctl.NodeName, SpecType.Char, 0, NodeTypes.Pseudo, NodeAccess.FromOctal("0666")) != DdiResult.Success)
            return DdiResult.Failure;
        if (dip.CreateMinorNode(LargeIoctl.NodeName, SpecType.Char, LargeMinor, NodeTypes.Pseudo, NodeAccess.FromOctal("0666")) != DdiResult.Success)
            return DdiResult.Failure;
        _large = new LargeCookies(Context.Allocator);
        dip.ReportDev();
        return DdiResult.Success;
    }

    /// <summary>detach(9E): ddi_umem_free(9F) every cookie (memory still mapped stays until its last unmap).</summary>
    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (cmd != DetachCommand.Detach) return DdiResult.Failure;
        UmemCookie[] cookies;
        lock (_gate)
        {
            cookies = _cookies;
            _cookies = [];
        }
        foreach (var c in cookies) Context.Allocator.Free(c);
        _large?.FreeAll();
        dip.RemoveMinorNode(null);
        _dip = null;
        return DdiResult.Success;
    }

    /// <summary>devmap(9E): one page per call; device page k is cookie k, exported whole.</summary>
    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        if (GetMinor(dev) == LargeMinor) return _large!.Devmap(dhp, off, len, out maplen);
        var cookies = Volatile.Read(ref _cookies);
        long page = Btop(off);
        if (off < 0 || page >= cookies.Length) return Errno.ENXIO;
        // A file open read-only gets a read-only grant (devmap_umem_setup(9F): maxprot must cover dh_prot).
        Prot maxprot = (dhp.MaxProt & Prot.Write) != 0 ? Prot.All : Prot.Read | Prot.User;
        if (DevmapUmemSetup(dhp, _dip, null, cookies[page], 0, Ptob(1), maxprot, DevmapFlags.Defaults, null) != DdiResult.Success)
            return Errno.ENXIO;
        maplen = Ptob(1);
        return Errno.None;
    }

    /// <summary>ioctl(9E): <see cref="ScaleIoctl.Alloc"/> and <see cref="ScaleIoctl.Count"/>; on "large0", <see cref="LargeIoctl"/>.</summary>
    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        if (GetMinor(dev) == LargeMinor) return _large!.Ioctl(unchecked((uint)cmd), ref arg, out rval);
        switch (unchecked((uint)cmd))
        {
            case ScaleIoctl.Count:
                rval = Volatile.Read(ref _cookies).Length;
                return Errno.None;
            case ScaleIoctl.Alloc:
                Span<byte> input = stackalloc byte[4];
                if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                int count = BinaryPrimitives.ReadInt32LittleEndian(input);
                if (count < 0 || count > ScaleIoctl.MaxCookies) return Errno.EINVAL;
                return Grow(count, out rval);
            default:
                return Errno.ENOTTY;
        }
    }

    private Errno Grow(int count, out int held)
    {
        lock (_gate)
        {
            var cookies = _cookies;
            if (count <= cookies.Length)
            {
                held = cookies.Length;
                return Errno.None;
            }
            var grown = new UmemCookie[count];
            cookies.CopyTo(grown, 0);
            int n = cookies.Length;
            Errno result = Errno.None;
            for (; n < count; n++)
            {
                // ddi_umem_alloc(9F) with DDI_UMEM_NOSLEEP: a refusal is ENOMEM to the caller, not a wait.
                if (!Context.Allocator.TryAlloc(Ptob(1), UmemFlags.NoSleep | UmemFlags.Pageable, out var cookie))
                {
                    result = Errno.ENOMEM;
                    break;
                }
                BinaryPrimitives.WriteInt32LittleEndian(cookie.GetSpan(0, 4), n);
                grown[n] = cookie;
            }
            // The ones allocated stay (a later Alloc goes on from there).
            Volatile.Write(ref _cookies, n == count ? grown : grown[..n]);
            held = n;
            return result;
        }
    }
}
