using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

[assembly: UmemDriver(typeof(Umem.Drivers.Xx.XxDriver), "xx")]

namespace Umem.Drivers.Xx;

/// <summary>
/// The seed's driver <c>xx</c> (Writing Device Drivers, "Associating Kernel Memory With User Mappings",
/// examples 10-4 and 10-5): it exports a page of kernel memory that every application of the same data model
/// shares. A 64-bit driver supporting both models allocates two pages: 64-bit applications share page 0,
/// 32-bit applications page 1, and neither can reach the other's page.
/// </summary>
public sealed class XxDriver : Driver, ISegmap, IDevmap
{
    // static void *statep;  ddi_soft_state_init(&statep, sizeof (struct xxstate), 1) in _init(9E).
    private readonly SoftState<XxState> _statep = new(1);

    /// <summary>attach(9E): soft state for the instance and its node "xx&lt;instance&gt;", mode 0666.</summary>
    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        // switch (cmd) { case DDI_ATTACH: ... default: return (DDI_FAILURE); }
        if (cmd != AttachCommand.Attach) return DdiResult.Failure;

        // instance = ddi_get_instance(dip);
        // if (ddi_soft_state_zalloc(statep, instance) != DDI_SUCCESS) return (DDI_FAILURE);
        // xsp = ddi_get_soft_state(statep, instance); xsp->dip = dip;
        int instance = dip.Instance;
        if (_statep.ZAlloc(instance) != DdiResult.Success) return DdiResult.Failure;
        var xsp = _statep.Get(instance)!;
        xsp.Dip = dip;

        // if (ddi_create_minor_node(dip, "xx0", S_IFCHR, instance, DDI_PSEUDO, 0) != DDI_SUCCESS) { ... }
        if (dip.CreateMinorNode($"xx{instance}", SpecType.Char, (uint)instance, NodeTypes.Pseudo,
                NodeAccess.FromOctal("0666")) != DdiResult.Success)
        {
            _statep.Free(instance);
            return DdiResult.Failure;
        }
        dip.ReportDev();
        return DdiResult.Success;
    }

    /// <summary>detach(9E): "When the driver is unloaded, the memory ... must be freed by calling ddi_umem_free(9F)."</summary>
    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (cmd != DetachCommand.Detach) return DdiResult.Failure;
        int instance = dip.Instance;
        var xsp = _statep.Get(instance);
        if (xsp is null) return DdiResult.Failure;

        // if (xsp->umem != NULL) ddi_umem_free(xsp->ucookie);
        if (xsp.UCookie is { } cookie)
        {
            dip.Context.Allocator.Free(cookie);
            xsp.UCookie = null;
        }
        // ddi_remove_minor_node(dip, NULL); ddi_soft_state_free(statep, instance);
        dip.RemoveMinorNode(null);
        _statep.Free(instance);
        return DdiResult.Success;
    }

    /// <summary>_fini(9E): ddi_soft_state_fini(&amp;statep).</summary>
    protected override void Fini() => _statep.Fini();

    /// <summary>
    /// segmap(9E), example 10-4: allocates the shared area on the first mmap, then sets up the mapping.
    /// </summary>
    /// <remarks>
    /// The seed's C reads:
    /// <code>
    /// switch (ddi_mmap_get_model()) {
    ///     case DDI_MODEL_LP64:
    ///          mem_size = ptob(2);
    ///     case DDI_MODEL_ILP32:
    ///          mem_size = ptob(1);
    /// </code>
    /// Without breaks the LP64 case falls through, so every model ends with one page, and the ILP32 redirect to
    /// page 1 in devmap would then fail. Read with breaks, the sizes still look swapped for lazy allocation: the
    /// first mapper decides the size, so a 64-bit first mapper would leave no page 1 for later 32-bit ones. The
    /// text states the intent: "An additional page is allocated if the driver has to support multiple
    /// application data models ... 64-bit applications share the first page, and 32-bit applications share
    /// the second page." This driver is 64-bit and supports both, so it always allocates two pages.
    /// </remarks>
    public Errno Segmap(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred)
    {
        // minor_t instance = getminor(dev);
        // struct xxstate *xsp = ddi_get_soft_state(statep, instance);
        uint instance = GetMinor(dev);
        var xsp = _statep.Get(instance);
        if (xsp is null) return Errno.ENXIO;

        // size_t mem_size; /* 64-bit driver supports 64-bit and 32-bit applications */
        long memSize;
        switch (MmapGetModel())
        {
            case DataModel.LP64:   // page 0 is for 64-bit applications ...
            case DataModel.ILP32:  // ... page 1 for 32-bit ones: both must exist whoever maps first.
                memSize = Ptob(2);
                break;
            default:
                return Errno.EINVAL;
        }

        // if (xsp->umem == NULL) {
        //     /* allocate the shared area as kernel pageable memory */
        //     xsp->umem = ddi_umem_alloc(mem_size, DDI_UMEM_SLEEP | DDI_UMEM_PAGEABLE, &xsp->ucookie);
        // }
        // Two first mappers at once would both allocate in the C; the gate makes the check-and-set atomic.
        lock (xsp.Gate)
        {
            if (xsp.UCookie is null)
            {
                try
                {
                    xsp.UCookie = Context.Allocator.Alloc(memSize, UmemFlags.Sleep | UmemFlags.Pageable);
                }
                catch (ErrnoException e)
                {
                    return e.Errno; // DDI_UMEM_SLEEP never fails in illumos; the host's budget can refuse
                }
            }
        }

        // /* Set up the user mapping */
        // error = devmap_setup(dev, (offset_t)off, asp, addrp, len, prot, maxprot, flags, credp);
        // return (error);
        return DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred);
    }

    /// <summary>
    /// devmap(9E), example 10-5: checks the range, redirects 32-bit applications to the second page, and exports
    /// the memory.
    /// </summary>
    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;

        // /* round up len to a multiple of a page size */
        // len = ptob(btopr(len));
        len = Ptob(Btopr(len));

        // /* check if the requested range is ok */
        // if (off + len > ptob(1)) return (ENXIO);
        if (off + len > Ptob(1)) return Errno.ENXIO;

        // xsp = ddi_get_soft_state(statep, getminor(dev));
        // if (xsp == NULL) return (ENXIO);
        var xsp = _statep.Get(GetMinor(dev));
        if (xsp is null) return Errno.ENXIO;

        // if (ddi_model_convert_from(model) == DDI_MODEL_ILP32)
        //     /* request from 32-bit application. Skip first page */
        //     off += ptob(1);
        if (ModelConvertFrom(model) == DataModel.ILP32) off += Ptob(1);

        // /* export the memory to the application */
        // error = devmap_umem_setup(handle, xsp->dip, NULL, xsp->ucookie, off, len, PROT_ALL, DEVMAP_DEFAULTS, NULL);
        // *maplen = len;
        // return (error);
        DdiResult error = DevmapUmemSetup(dhp, xsp.Dip, null, xsp.UCookie, off, len, Prot.All, DevmapFlags.Defaults, null);
        maplen = len;
        // The C returns DDI_FAILURE (-1) itself; devmap_setup turns any nonzero return into ENXIO.
        return error == DdiResult.Success ? Errno.None : Errno.ENXIO;
    }
}
