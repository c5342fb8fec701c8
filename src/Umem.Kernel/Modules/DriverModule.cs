using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;

namespace Umem.Kernel.Modules;

/// <summary>
/// A loaded driver module (modctl): the driver, its instances, its nodes, its memory account and, for a module
/// loaded from an assembly, its collectible load context. Made by <see cref="UmemKernel.ModLoad(string, ModuleOptions?)"/>.
/// </summary>
public sealed class DriverModule
{
    private static readonly Dictionary<ModuleState, ModuleState[]> s_transitions = new()
    {
        [ModuleState.Loaded] = [ModuleState.Attached, ModuleState.Unloaded],
        [ModuleState.Attached] = [ModuleState.Detaching],
        [ModuleState.Detaching] = [ModuleState.Attached, ModuleState.Unloaded],
    };

    private readonly Lock _gate = new();
    private StateMachine<ModuleState> _state;
    private readonly List<DevInfo> _instances = [];
    private readonly HashSet<DeviceFile> _files = [];
    private Driver? _driver;
    private ModuleLoadContext? _loadContext;

    internal DriverModule(UmemKernel kernel, int id, string name, string? path, uint major, Driver driver,
        ModuleLoadContext? loadContext, ModuleOptions options)
    {
        Kernel = kernel;
        Id = id;
        Name = name;
        Path = path;
        Major = major;
        _driver = driver;
        _loadContext = loadContext;
        LoadContextReference = loadContext is null ? null : new WeakReference(loadContext);
        Options = options;
        LoadedAt = DateTimeOffset.UtcNow;
        Context = new DdiContext(name, new ModuleAllocator(kernel.Allocator, name, options.CaptureAllocationStacks), options.Properties, kernel.Emit);
        _state = new StateMachine<ModuleState>(ModuleState.Loaded, s_transitions, () => $"module {Name}");
    }

    /// <summary>A number unique in the host.</summary>
    public int Id { get; }

    /// <summary>The driver's name.</summary>
    public string Name { get; }

    /// <summary>The assembly it came from; null for a module built into the host.</summary>
    public string? Path { get; }

    /// <summary>Its major number (name_to_major: the same name keeps its number across reloads).</summary>
    public uint Major { get; }

    /// <summary>When it was loaded.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>The module's services, as its driver sees them.</summary>
    public DdiContext Context { get; }

    /// <summary>ddi_umem_alloc accounted to this module.</summary>
    public ModuleAllocator Allocator => Context.Allocator;

    /// <summary>Its state.</summary>
    public ModuleState State
    {
        get
        {
            lock (_gate) return _state.State;
        }
    }

    /// <summary>Its attached instances.</summary>
    public IReadOnlyList<DevInfo> Instances
    {
        get
        {
            lock (_gate) return [.. _instances];
        }
    }

    /// <summary>Its published minor nodes.</summary>
    public IReadOnlyList<MinorNode> Nodes => Kernel.NodesOf(this);

    /// <summary>The live mappings of its nodes.</summary>
    public IReadOnlyList<MappingInfo> GetMappings() => Kernel.MappingsOf(this);

    /// <summary>A snapshot for modinfo.</summary>
    public ModuleInfo GetInfo()
    {
        int[] instances;
        int files;
        ModuleState state;
        lock (_gate)
        {
            instances = [.. _instances.Select(d => d.Instance)];
            files = _files.Count;
            state = _state.State;
        }
        var nodes = Nodes.Select(n => n.GetInfo()).ToArray();
        return new ModuleInfo(Id, Name, Path, Major, state, LoadedAt, instances, nodes, files,
            nodes.Sum(n => n.Mappings), Allocator.LiveCount, Allocator.LiveBytes, Allocator.TotalAllocations);
    }

    public override string ToString() => $"module {Name} (id {Id}, major {Major})";

    internal UmemKernel Kernel { get; }

    internal ModuleOptions Options { get; }

    /// <summary>The driver; null once unloaded.</summary>
    internal Driver? Driver => _driver;

    /// <summary>A weak reference to the load context, to see that unloading really collected it.</summary>
    internal WeakReference? LoadContextReference { get; }

    internal void AddInstance(DevInfo dip)
    {
        lock (_gate) _instances.Add(dip);
    }

    internal void RemoveInstance(DevInfo dip)
    {
        lock (_gate) _instances.Remove(dip);
    }

    internal void MoveTo(ModuleState next)
    {
        lock (_gate) _state.MoveTo(next);
    }

    /// <summary>Registers a file being opened; ENXIO unless the module is attached (so unload and open cannot cross).</summary>
    internal void AcquireFile(DeviceFile file, string call)
    {
        lock (_gate)
        {
            if (_state.State != ModuleState.Attached)
                throw new ErrnoException(Errno.ENXIO, call, $"driver {Name} is {_state.State.ToString().ToLowerInvariant()}");
            _files.Add(file);
        }
        file.Node.CountOpen(1);
    }

    internal void ReleaseFile(DeviceFile file)
    {
        bool removed;
        lock (_gate) removed = _files.Remove(file);
        if (removed) file.Node.CountOpen(-1);
    }

    /// <summary>Moves Attached → Detaching when nothing is open or mapped; else EBUSY naming what is.</summary>
    internal void BeginDetach()
    {
        lock (_gate)
        {
            if (_state.State != ModuleState.Attached)
                throw new ErrnoException(Errno.EBUSY, $"modunload({Name})", $"the module is {_state.State.ToString().ToLowerInvariant()}");
            if (_files.Count > 0)
            {
                int mapped = _files.Sum(f => f.Mappings.Count);
                throw new ErrnoException(Errno.EBUSY, $"modunload({Name})", $"{_files.Count} file(s) open, {mapped} mapping(s)");
            }
            _state.MoveTo(ModuleState.Detaching);
        }
    }

    internal DeviceFile[] OpenFiles()
    {
        lock (_gate) return [.. _files];
    }

    /// <summary>Drops everything that points into the driver's load context and starts unloading it.</summary>
    internal void Release()
    {
        ModuleLoadContext? context;
        lock (_gate)
        {
            foreach (var dip in _instances) dip.DriverPrivate = null;
            _instances.Clear();
            _driver = null;
            context = _loadContext;
            _loadContext = null;
        }
        context?.Unload();
    }

    internal void Report(CeLevel level, string text) => Kernel.Emit(new DdiMessage(DateTimeOffset.UtcNow, Name, level, text));

    /// <summary>An exception escaped driver code: the full text goes to the log (never kept, so it cannot pin the load context).</summary>
    internal void ReportException(string entryPoint, Exception e) =>
        Kernel.Emit(new DdiMessage(DateTimeOffset.UtcNow, Name, CeLevel.Warn, $"{entryPoint} threw {e.GetType().Name}: {e.Message}", e));
}
