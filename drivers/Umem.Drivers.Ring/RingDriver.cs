using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

[assembly: UmemDriver(typeof(Umem.Drivers.Ring.RingDriver), "ring")]

namespace Umem.Drivers.Ring;

/// <summary>
/// The sample driver <c>ring</c>: one area of kernel memory, allocated at attach, that a writer application maps
/// read-write and any number of reader applications map read-only, for a broadcast ring (Umem.Client.Sync's
/// SharedRing layout: a 256-byte header and the data). What a mapper may do follows how it opened the node:
/// O_RDWR gets PROT_ALL, O_RDONLY only PROT_READ|PROT_USER, and the OS enforces it (the reader's memfd is a
/// read-only reopen, so even mprotect(PROT_WRITE) fails).
/// </summary>
public sealed class RingDriver : Driver, IDevmap
{
    /// <summary>The ring's data capacity (a power of two, as SharedRing requires): 1 MiB.</summary>
    public const int Capacity = 1 << 20;

    /// <summary>The header SharedRing puts before the data (SharedRing.HeaderSize).</summary>
    public const int HeaderBytes = 256;

    private readonly SoftState<RingState> _statep = new(1);

    /// <summary>The bytes the area occupies: header and data, rounded up to whole pages.</summary>
    public static long AreaBytes => Ptob(Btopr(HeaderBytes + (long)Capacity));

    /// <summary>attach(9E): allocates the ring area and creates node "ring&lt;instance&gt;", mode 0666.</summary>
    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach) return DdiResult.Failure;
        int instance = dip.Instance;
        if (_statep.ZAlloc(instance) != DdiResult.Success) return DdiResult.Failure;
        var rsp = _statep.Get(instance)!;
        rsp.Dip = dip;

        // ddi_umem_alloc(9F): DDI_UMEM_SLEEP waits for memory rather than failing. The whole area is one grant
        // unit (one memfd), so every mapper gets the same single segment.
        long bytes = AreaBytes;
        try
        {
            rsp.Cookie = Context.Allocator.Alloc(bytes, UmemFlags.Sleep, grantPages: (int)Btop(bytes));
        }
        catch (ErrnoException e)
        {
            Context.CmnErr(CeLevel.Warn, $"ring{instance}: cannot allocate {bytes} bytes: {e.Message}");
            _statep.Free(instance);
            return DdiResult.Failure;
        }

        // ddi_create_minor_node(9F): everyone may open; the open mode decides what a mapping may do.
        if (dip.CreateMinorNode($"ring{instance}", SpecType.Char, (uint)instance, NodeTypes.Pseudo,
                NodeAccess.FromOctal("0666")) != DdiResult.Success)
        {
            Context.Allocator.Free(rsp.Cookie);
            _statep.Free(instance);
            return DdiResult.Failure;
        }
        dip.ReportDev();
        return DdiResult.Success;
    }

    /// <summary>detach(9E): ddi_umem_free(9F) the area, remove the node and the soft state.</summary>
    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (cmd != DetachCommand.Detach) return DdiResult.Failure;
        int instance = dip.Instance;
        var rsp = _statep.Get(instance);
        if (rsp is null) return DdiResult.Failure;
        if (rsp.Cookie is { } cookie)
        {
            Context.Allocator.Free(cookie);
            rsp.Cookie = null;
        }
        dip.RemoveMinorNode(null);
        _statep.Free(instance);
        return DdiResult.Success;
    }

    /// <summary>_fini(9E): ddi_soft_state_fini(9F).</summary>
    protected override void Fini() => _statep.Fini();

    /// <summary>
    /// devmap(9E): exports [off, off+len) of the area. The handle's maxprot lacks PROT_WRITE when the file was not
    /// opened for writing (mmap(2) of a MAP_SHARED mapping); the driver then exports with PROT_READ|PROT_USER only,
    /// so devmap_umem_setup(9F) hands out a read-only grant the OS enforces, and no later mprotect can widen it.
    /// </summary>
    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        len = Ptob(Btopr(len));
        var rsp = _statep.Get(GetMinor(dev));
        if (rsp?.Cookie is null) return Errno.ENXIO;
        if (off < 0 || off + len > AreaBytes) return Errno.ENXIO;

        Prot maxprot = (dhp.MaxProt & Prot.Write) != 0 ? Prot.All : Prot.Read | Prot.User;
        DdiResult rc = DevmapUmemSetup(dhp, rsp.Dip, null, rsp.Cookie, off, len, maxprot, DevmapFlags.Defaults, null);
        maplen = len;
        return rc == DdiResult.Success ? Errno.None : Errno.ENXIO;
    }
}
