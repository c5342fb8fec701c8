using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// A device driver: the C# counterpart of a driver's <c>dev_ops</c>/<c>cb_ops</c>. Derive from it, override
/// <see cref="Attach"/> and <see cref="Detach"/> (attach(9E)/detach(9E)) and, as the driver needs, open/close;
/// implement <see cref="IDevmap"/>, <see cref="ISegmap"/>, <see cref="IIoctl"/> or <see cref="IChpoll"/> for the
/// optional cb_ops entry points (a missing one is <c>nodev</c>). The constructor plays _init(9E) (set up soft
/// state there) and <see cref="Fini"/> plays _fini(9E).
/// </summary>
/// <remarks>
/// Entry points return an <see cref="Errno"/> (<see cref="Errno.None"/> is success) as the DDI returns an int
/// errno; the application receives that errno. attach/detach return <see cref="DdiResult"/> as the DDI does.
/// Entry points may run concurrently on many threads (the DDI's MT-safe model); the framework serialises only
/// the lifecycle (no entry point runs before attach completes or after detach starts). An exception escaping an
/// entry point is reported as a message and treated as failure (EIO for cb_ops entry points).
/// A driver assembly overrides the entry points with <c>protected override</c>; an assembly Umem.Kernel lets see
/// its internals (the host, the tests) must write <c>protected internal override</c>.
/// <para>What the DDI calls a driver makes return, and what they throw (illumos returns an int for all of them;
/// Umem keeps that where a driver is expected to pass the value on, and throws only for misuse):</para>
/// <list type="table">
/// <listheader><term>returns</term><description>calls</description></listheader>
/// <item><term><see cref="Errno"/> (the errno the application gets; <see cref="Errno.None"/> is 0)</term>
/// <description>the cb_ops entry points a driver implements (open, close, ioctl, devmap, segmap, chpoll);
/// <c>Sunddi.DevmapSetup</c>, <c>Sunddi.DevmapSegmap</c> (devmap_setup(9F), ddi_devmap_segmap(9F));
/// <c>UmemLock.TryLock</c>, <c>UmemLock.TryLockMemory</c> (ddi_umem_lock(9F), umem_lockmemory: EINVAL,
/// ENOMEM, EFAULT, EACCES, or mlock's errno).</description></item>
/// <item><term><see cref="DdiResult"/> (DDI_SUCCESS or DDI_FAILURE)</term>
/// <description>attach(9E), detach(9E); <c>Sunddi.DevmapUmemSetup</c> (devmap_umem_setup(9F); the reason is
/// kept in <c>DevmapHandle.FailureReason</c>); <c>DevInfo.CreateMinorNode</c> (ddi_create_minor_node(9F));
/// <c>SoftState.ZAlloc</c> (ddi_soft_state_zalloc(9F)).</description></item>
/// <item><term>0 or -1</term><description><c>IoctlBuffer.CopyIn</c>, <c>IoctlBuffer.CopyOut</c>
/// (ddi_copyin(9F), ddi_copyout(9F); on -1 the driver returns EFAULT).</description></item>
/// <item><term>bool, or null</term><description><c>ModuleAllocator.TryAlloc</c> (ddi_umem_alloc(9F) with
/// DDI_UMEM_NOSLEEP: false is the DDI's NULL, also for size 0); <c>SoftState.Get</c> (ddi_get_soft_state(9F): null).</description></item>
/// </list>
/// <list type="table">
/// <listheader><term>throws</term><description>calls, and when</description></listheader>
/// <item><term><see cref="ErrnoException"/></term>
/// <description><c>ModuleAllocator.Alloc</c> (ddi_umem_alloc(9F): ENOMEM when a NOSLEEP request is refused or a
/// SLEEP request can never fit); <c>UmemLock.Lock</c>, <c>UmemLock.LockMemory</c>
/// (the errno <c>TryLock</c> returns).</description></item>
/// <item><term><see cref="InvalidOperationException"/></term>
/// <description>a double <c>ModuleAllocator.Free</c> (ddi_umem_free(9F)) or <c>UmemLockCookie.Unlock</c>
/// (ddi_umem_unlock(9F)); allocating after the module is unloaded; <c>SoftState</c> used after its <c>Fini</c>;
/// <c>Sunddi.MmapGetModel</c> (ddi_mmap_get_model(9F)) outside segmap, devmap and the devmap callbacks;
/// <see cref="Context"/> read in the constructor.</description></item>
/// <item><term><see cref="ArgumentException"/> (<see cref="ArgumentNullException"/>, <see cref="ArgumentOutOfRangeException"/>)</term>
/// <description><c>ModuleAllocator.Alloc</c> and <c>TryAlloc</c> with a size too large or below 1 (<c>TryAlloc</c>: below 0), unknown
/// flags or a negative grantPages; <c>ModuleAllocator.Free</c> of a null cookie or of one another module allocated.</description></item>
/// </list>
/// </remarks>
public abstract class Driver
{
    private DdiContext? _context;

    /// <summary>
    /// The module's services (memory, messages, properties). Available from the first attach on, and in
    /// <see cref="Fini"/>; not in the constructor.
    /// </summary>
    protected DdiContext Context => _context ?? throw new InvalidOperationException("the driver's context is not set yet (used in the constructor?)");

    internal void SetContext(DdiContext context) => _context = context;

    /// <summary>attach(9E): brings up one instance. Create its minor nodes here.</summary>
    protected internal abstract DdiResult Attach(DevInfo dip, AttachCommand cmd);

    /// <summary>detach(9E): takes one instance down; free what attach and later calls allocated.</summary>
    protected internal abstract DdiResult Detach(DevInfo dip, DetachCommand cmd);

    /// <summary>
    /// open(9E): an application opens a minor node of this driver. The default accepts every open (nulldev).
    /// A cloning driver may change <paramref name="devp"/> to a new minor number of its own major.
    /// </summary>
    protected internal virtual Errno Open(ref DevT devp, OpenFlags flag, OpenType otyp, Cred credp) => Errno.None;

    /// <summary>close(9E): called once per open file, after the file is closed and its last mapping is gone. Default: nulldev.</summary>
    protected internal virtual Errno Close(DevT dev, OpenFlags flag, OpenType otyp, Cred credp) => Errno.None;

    /// <summary>_fini(9E): the module is being unloaded; every instance is already detached. Free module-wide state (ddi_soft_state_fini).</summary>
    protected internal virtual void Fini()
    {
    }
}
