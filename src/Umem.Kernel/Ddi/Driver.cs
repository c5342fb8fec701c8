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
