using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

// The module's name: `umem host -d MyDriver.dll` serves its nodes as mydriver0, mydriver1, ...
[assembly: UmemDriver(typeof(MyDriver.MyDriverDriver), "mydriver")]

namespace MyDriver;

/// <summary>
/// A minimal Umem driver: each instance owns one page of driver memory (ddi_umem_alloc(9F)) and exports it
/// through devmap(9E) to every application that maps its node, so they all share that page.
/// </summary>
public sealed class MyDriverDriver : Driver, IDevmap
{
    // ddi_soft_state(9F): one State per instance, found again from the minor number.
    private readonly SoftState<State> _state = new(1);

    /// <summary>attach(9E): allocate the page and create the node "mydriver&lt;instance&gt;" (mode 0666).</summary>
    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach) return DdiResult.Failure;
        int instance = dip.Instance;
        if (_state.ZAlloc(instance) != DdiResult.Success) return DdiResult.Failure;
        var state = _state.Get(instance)!;
        state.Dip = dip;
        // Zero-filled and page-aligned; PAGEABLE: not locked in memory.
        state.Cookie = Context.Allocator.Alloc(Ptob(1), UmemFlags.Sleep | UmemFlags.Pageable);
        if (dip.CreateMinorNode($"mydriver{instance}", SpecType.Char, (uint)instance, NodeTypes.Pseudo,
                NodeAccess.FromOctal("0666")) != DdiResult.Success)
        {
            Context.Allocator.Free(state.Cookie);
            _state.Free(instance);
            return DdiResult.Failure;
        }
        dip.ReportDev();
        return DdiResult.Success;
    }

    /// <summary>detach(9E): free what attach allocated (ddi_umem_free(9F)) and remove the node.</summary>
    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (cmd != DetachCommand.Detach) return DdiResult.Failure;
        var state = _state.Get(dip.Instance);
        if (state is null) return DdiResult.Failure;
        if (state.Cookie is { } cookie) Context.Allocator.Free(cookie);
        dip.RemoveMinorNode(null);
        _state.Free(dip.Instance);
        return DdiResult.Success;
    }

    /// <summary>_fini(9E).</summary>
    protected override void Fini() => _state.Fini();

    /// <summary>devmap(9E): export the requested range of the page (devmap_umem_setup(9F)); beyond it, ENXIO.</summary>
    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        len = Ptob(Btopr(len));
        if (off < 0 || off + len > Ptob(1)) return Errno.ENXIO;
        var state = _state.Get(GetMinor(dev));
        if (state?.Cookie is null) return Errno.ENXIO;
        var result = DevmapUmemSetup(dhp, state.Dip, null, state.Cookie, off, len, Prot.All, DevmapFlags.Defaults, null);
        maplen = len;
        return result == DdiResult.Success ? Errno.None : Errno.ENXIO;
    }

    private sealed class State
    {
        public DevInfo? Dip { get; set; }

        public UmemCookie? Cookie { get; set; }
    }
}
