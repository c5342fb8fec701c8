using System.Collections.Concurrent;
using System.Reflection;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Locking;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Kernel.Modules;

/// <summary>
/// The device tree and module table of a Umem host: loads and unloads driver modules (modload/modunload/modinfo),
/// publishes their minor nodes, and opens them for requesters. The host calls exactly what in-process tests call.
/// </summary>
/// <remarks>
/// Lock order: <c>_moduleOps</c> (serialises load and unload; attach and detach run under it) before a module's,
/// a file's or a mapping's own lock; a mapping's lock (held across the driver's unmap callbacks) before
/// <c>_nodesGate</c>; <c>_nodesGate</c> before a module's lock. Events are raised on the thread that caused them,
/// possibly under <c>_moduleOps</c> or a mapping's lock (a driver message from an unmap callback): handlers must be
/// quick and must not call back into the kernel.
/// </remarks>
public sealed class UmemKernel : IDisposable
{
    private readonly Lock _moduleOps = new();
    private readonly Lock _nodesGate = new();
    private readonly Dictionary<string, DriverModule> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, uint> _nameToMajor = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MinorNode> _nodesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<DevT, MinorNode> _nodesByDev = [];
    private readonly HashSet<MinorNode> _unpublished = [];
    // A dictionary under a lock rather than a ConcurrentDictionary, whose every entry is an object of its own: the
    // GC traces one more object per mapping for it (issue 13). Each use holds the lock for one lookup or update.
    private readonly Lock _mappingsGate = new();
    private readonly Dictionary<long, DeviceMapping> _mappings = [];
    private readonly ConcurrentDictionary<long, DeviceFile> _files = new();
    // The reports of the last unloads, newest last, for modinfo (bounded: a host that loads and unloads forever
    // keeps only the recent ones).
    private readonly Queue<ModuleUnloadReport> _unloads = new();
    private long _nextId;
    private int _nextModuleId;
    private uint _nextMajor = FirstMajor;
    private bool _disposed;

    /// <summary>The first major number handed out (lower ones look like real devices in listings).</summary>
    public const uint FirstMajor = 200;

    /// <summary>
    /// A kernel whose drivers allocate from <paramref name="allocator"/> (not owned; dispose it after the kernel),
    /// giving new nodes owners and modes by <paramref name="nodePermissions"/> (default: as their drivers ask).
    /// </summary>
    public UmemKernel(UmemAllocator allocator, NodePermissionPolicy? nodePermissions = null)
    {
        ArgumentNullException.ThrowIfNull(allocator);
        Allocator = allocator;
        NodePermissions = nodePermissions ?? NodePermissionPolicy.DriversDecide;
    }

    /// <summary>Who may open each new node (minor_perm(4)).</summary>
    public NodePermissionPolicy NodePermissions { get; }

    /// <summary>The allocator behind every module's ddi_umem_alloc.</summary>
    public UmemAllocator Allocator { get; }

    /// <summary>A minor node was published (after its instance attached, or at once when made later).</summary>
    public event EventHandler<MinorNodeEventArgs>? NodeAdded;

    /// <summary>A minor node was removed (ddi_remove_minor_node, detach, or unload).</summary>
    public event EventHandler<MinorNodeEventArgs>? NodeRemoved;

    /// <summary>A driver's cmn_err, or the framework's note about a module (failures, leaks).</summary>
    public event EventHandler<DdiMessageEventArgs>? Message;

    /// <summary>A module was unloaded; the report lists the cookies it leaked.</summary>
    public event EventHandler<ModuleUnloadedEventArgs>? ModuleUnloaded;

    /// <summary>
    /// modload: loads the driver assembly at <paramref name="assemblyPath"/> into its own collectible load
    /// context, constructs its driver (_init) and attaches its instances.
    /// </summary>
    /// <exception cref="ErrnoException">
    /// ENOENT (no such file), ENOEXEC (not an assembly, no driver in it, or the driver could not be constructed),
    /// EEXIST (a module of that name is loaded), EINVAL (bad options), ENXIO (an instance failed to attach).
    /// </exception>
    public DriverModule ModLoad(string assemblyPath, ModuleOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyPath);
        string call = $"modload({assemblyPath})";
        string full = Path.GetFullPath(assemblyPath);
        if (!File.Exists(full)) throw new ErrnoException(Errno.ENOENT, call, $"{full} does not exist");
        lock (_moduleOps)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var (driver, name, instances, context) = LoadDriver(full, call);
            return Install(options?.Name ?? name, full, driver, context, options ?? new ModuleOptions(), instances, call);
        }
    }

    /// <summary>
    /// modload of a driver built into the host (or a test): no load context, otherwise the same as loading an
    /// assembly.
    /// </summary>
    public DriverModule ModLoad(string name, Func<Driver> factory, ModuleOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        string call = $"modload({name})";
        lock (_moduleOps)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Driver driver;
            try
            {
                driver = factory();
            }
            catch (Exception e)
            {
                throw new ErrnoException(Errno.ENOEXEC, call, $"the driver's constructor (_init) threw {e.GetType().Name}: {e.Message}");
            }
            return Install(name, null, driver, null, options ?? new ModuleOptions(), 1, call);
        }
    }

    /// <summary>
    /// modunload: detaches every instance (detach(9E), then _fini), reports and reclaims the cookies the driver
    /// never freed, and unloads its load context.
    /// </summary>
    /// <exception cref="ErrnoException">ENOENT (no such module); EBUSY (a node is open or mapped, or a detach(9E) refused).</exception>
    public ModuleUnloadReport ModUnload(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_moduleOps)
        {
            if (!_modules.TryGetValue(name, out var module))
                throw new ErrnoException(Errno.ENOENT, $"modunload({name})", "no module of that name is loaded");
            module.BeginDetach();
            var instances = module.Instances;
            for (int i = instances.Count - 1; i >= 0; i--)
            {
                if (CallDetach(module, instances[i])) continue;
                // detach(9E) refused: bring back the instances already detached, and stay loaded.
                for (int j = i + 1; j < instances.Count; j++)
                {
                    if (CallAttach(module, instances[j])) continue;
                    module.Report(CeLevel.Warn, $"re-attach of instance {instances[j].Instance} after a refused detach failed; the instance is gone");
                    instances[j].RemoveMinorNode(null);
                    module.RemoveInstance(instances[j]);
                }
                module.MoveTo(ModuleState.Attached);
                for (int j = i + 1; j < instances.Count; j++) PublishNodes(instances[j]);
                throw new ErrnoException(Errno.EBUSY, $"modunload({name})", $"detach(9E) of instance {instances[i].Instance} failed");
            }
            var report = Finish(module);
            lock (_unloads)
            {
                if (_unloads.Count == UnloadHistoryLength) _unloads.Dequeue();
                _unloads.Enqueue(report);
            }
            ModuleUnloaded?.Invoke(this, new ModuleUnloadedEventArgs(report));
            return report;
        }
    }

    /// <summary>How many past unload reports <see cref="UnloadHistory"/> keeps.</summary>
    public const int UnloadHistoryLength = 64;

    /// <summary>The reports of the last modunloads (at most <see cref="UnloadHistoryLength"/>), oldest first: what each left behind.</summary>
    public IReadOnlyList<ModuleUnloadReport> UnloadHistory
    {
        get
        {
            lock (_unloads) return [.. _unloads];
        }
    }

    /// <summary>modinfo: every loaded module with its instances and nodes.</summary>
    public IReadOnlyList<ModuleInfo> ModInfo()
    {
        DriverModule[] modules;
        lock (_nodesGate) modules = [.. _modules.Values.OrderBy(m => m.Id)];
        return [.. modules.Select(m => m.GetInfo())];
    }

    /// <summary>The loaded modules.</summary>
    public IReadOnlyList<DriverModule> Modules
    {
        get
        {
            lock (_nodesGate) return [.. _modules.Values.OrderBy(m => m.Id)];
        }
    }

    /// <summary>The module named <paramref name="name"/>, or null.</summary>
    public DriverModule? FindModule(string name)
    {
        lock (_nodesGate) return _modules.GetValueOrDefault(name);
    }

    /// <summary>Every published minor node.</summary>
    public IReadOnlyList<MinorNode> Nodes
    {
        get
        {
            lock (_nodesGate) return [.. _nodesByName.Values.Where(n => !_unpublished.Contains(n)).OrderBy(n => n.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The published node named <paramref name="name"/>, or null.</summary>
    public MinorNode? FindNode(string name)
    {
        lock (_nodesGate) return _nodesByName.TryGetValue(name, out var n) && !_unpublished.Contains(n) ? n : null;
    }

    /// <summary>The published node with device number <paramref name="dev"/>, or null.</summary>
    public MinorNode? FindNode(DevT dev)
    {
        lock (_nodesGate) return _nodesByDev.TryGetValue(dev, out var n) && !_unpublished.Contains(n) ? n : null;
    }

    /// <summary>
    /// open(2) of the node named <paramref name="nodeName"/>: the node's mode is checked against
    /// <paramref name="cred"/> (root bypasses), then the driver's open(9E) runs with it.
    /// </summary>
    /// <exception cref="ErrnoException">ENOENT (no such node), EACCES (mode), EINVAL (flags or data model), ENXIO (driver not attached), or open(9E)'s errno.</exception>
    public DeviceFile Open(string nodeName, OpenFlags flags, Cred cred)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        string call = $"open({nodeName}, {flags.Format()})";
        var node = FindNode(nodeName) ?? throw new ErrnoException(Errno.ENOENT, call, $"no node named \"{nodeName}\"");
        return OpenCore(node, flags, cred, null, call);
    }

    /// <summary>open(2) of the node with device number <paramref name="dev"/>; ENXIO when there is none.</summary>
    public DeviceFile Open(DevT dev, OpenFlags flags, Cred cred)
    {
        string call = $"open(dev {dev}, {flags.Format()})";
        var node = FindNode(dev) ?? throw new ErrnoException(Errno.ENXIO, call, $"no node has device number {dev}");
        return OpenCore(node, flags, cred, null, call);
    }

    /// <summary>
    /// open(2) of <paramref name="node"/> by an application <paramref name="process"/> (what the device host calls
    /// for an OPEN request): the node's mode is checked against the process's credential, then open(9E) runs;
    /// the file's entry points all run with <paramref name="process"/> as curproc.
    /// </summary>
    /// <exception cref="ErrnoException">ENXIO (the node was removed), EACCES (mode), EINVAL (flags or data model), or open(9E)'s errno.</exception>
    public DeviceFile Open(MinorNode node, OpenFlags flags, UmemProcess process)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(process);
        if (process.HasExited)
            throw new ErrnoException(Errno.ESRCH, $"open({node.Name})", $"process {process.Cred.Pid} has exited");
        return OpenCore(node, flags, process.Cred, process, $"open({node.Name}, {flags.Format()})");
    }

    /// <summary>Every live mapping in the host (a pmap-style view).</summary>
    public IReadOnlyList<MappingInfo> GetMappings() => [.. LiveMappings().OrderBy(m => m.Id).Select(m => m.GetInfo())];

    /// <summary>The live mapping with id <paramref name="id"/>, or null.</summary>
    public DeviceMapping? FindMapping(long id)
    {
        lock (_mappingsGate) return _mappings.GetValueOrDefault(id);
    }

    /// <summary>How many mappings are live now (stat's count, without building every mapping's view).</summary>
    public int MappingCount
    {
        get
        {
            lock (_mappingsGate) return _mappings.Count;
        }
    }

    /// <summary>How many files are open now.</summary>
    public int OpenFileCount => _files.Count;

    /// <summary>How many files process <paramref name="pid"/> has open now (pmap's summary).</summary>
    public int CountOpenFiles(int pid) => _files.Values.Count(f => f.Cred.Pid == pid);

    /// <summary>The open file with id <paramref name="id"/>, or null.</summary>
    public DeviceFile? FindFile(long id) => _files.GetValueOrDefault(id);

    /// <summary>
    /// Shuts down: unmaps every mapping, closes every file, and unloads every module (leaks reported as at
    /// modunload). The allocator stays the caller's.
    /// </summary>
    public void Dispose()
    {
        lock (_moduleOps)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var module in Modules.Reverse())
            {
                foreach (var file in module.OpenFiles())
                {
                    foreach (var m in file.Mappings) m.Dispose();
                    file.Dispose();
                }
                try
                {
                    module.BeginDetach();
                    foreach (var dip in module.Instances.Reverse())
                    {
                        if (!CallDetach(module, dip))
                            module.Report(CeLevel.Warn, $"detach(9E) of instance {dip.Instance} failed at shutdown; unloading anyway");
                    }
                    var report = Finish(module);
                    ModuleUnloaded?.Invoke(this, new ModuleUnloadedEventArgs(report));
                }
                catch (ErrnoException e)
                {
                    module.Report(CeLevel.Warn, $"shutdown: {e.Message}");
                }
            }
        }
    }

    // ---- framework internals -------------------------------------------------------------------------------

    internal long NextId() => Interlocked.Increment(ref _nextId);

    internal void Emit(DdiMessage message) => Message?.Invoke(this, new DdiMessageEventArgs(message));

    internal void Register(DeviceMapping mapping)
    {
        lock (_mappingsGate) _mappings[mapping.Id] = mapping;
        mapping.Node.CountMapping(1);
    }

    internal void Unregister(DeviceMapping mapping)
    {
        bool removed;
        lock (_mappingsGate) removed = _mappings.Remove(mapping.Id);
        if (removed) mapping.Node.CountMapping(-1);
    }

    internal void Unregister(DeviceFile file) => _files.TryRemove(file.Id, out _);

    internal IReadOnlyList<MappingInfo> MappingsOf(DriverModule module) =>
        [.. LiveMappings().Where(m => m.File.Module == module).OrderBy(m => m.Id).Select(m => m.GetInfo())];

    /// <summary>A snapshot of the live mappings (their info is read outside the table's lock: each takes its own).</summary>
    private DeviceMapping[] LiveMappings()
    {
        lock (_mappingsGate) return [.. _mappings.Values];
    }

    internal IReadOnlyList<MinorNode> NodesOf(DriverModule module)
    {
        lock (_nodesGate)
            return [.. _nodesByName.Values.Where(n => n.Module == module && !_unpublished.Contains(n)).OrderBy(n => n.Name, StringComparer.Ordinal)];
    }

    /// <summary>Adds a node; unpublished while its module is still attaching (published by <see cref="PublishNodes"/>).</summary>
    internal bool TryAddNode(MinorNode node, out string? why)
    {
        bool publishNow;
        lock (_nodesGate)
        {
            if (_nodesByName.TryGetValue(node.Name, out var other))
            {
                why = $"the name is already used by {other}";
                return false;
            }
            if (_nodesByDev.TryGetValue(node.Dev, out other))
            {
                why = $"minor {node.Minor} is already used by {other.Name}";
                return false;
            }
            _nodesByName.Add(node.Name, node);
            _nodesByDev.Add(node.Dev, node);
            publishNow = node.Module.State == ModuleState.Attached;
            if (!publishNow) _unpublished.Add(node);
        }
        why = null;
        if (publishNow) NodeAdded?.Invoke(this, new MinorNodeEventArgs(node));
        return true;
    }

    internal void RemoveNode(MinorNode node)
    {
        bool wasPublished;
        lock (_nodesGate)
        {
            if (!_nodesByName.Remove(node.Name)) return;
            _nodesByDev.Remove(node.Dev);
            wasPublished = !_unpublished.Remove(node);
            node.Removed = true;
        }
        if (wasPublished) NodeRemoved?.Invoke(this, new MinorNodeEventArgs(node));
    }

    private void PublishNodes(DevInfo dip)
    {
        var published = new List<MinorNode>();
        lock (_nodesGate)
        {
            foreach (var n in dip.Nodes)
                if (_unpublished.Remove(n)) published.Add(n);
        }
        foreach (var n in published) NodeAdded?.Invoke(this, new MinorNodeEventArgs(n));
    }

    private DeviceFile OpenCore(MinorNode node, OpenFlags flags, Cred cred, UmemProcess? process, string call)
    {
        ArgumentNullException.ThrowIfNull(cred);
        if ((flags & (OpenFlags.Read | OpenFlags.Write)) == 0 || (flags & ~(OpenFlags.Read | OpenFlags.Write)) != 0)
            throw new ErrnoException(Errno.EINVAL, call, "open flags must be FREAD, FWRITE or both");
        if (cred.Model is not (DataModel.ILP32 or DataModel.LP64))
            throw new ErrnoException(Errno.EINVAL, call, $"the requester's data model {cred.Model} is neither ILP32 nor LP64");
        node.CheckAccess(cred, flags, call);
        var module = node.Module;

        // Count the file before open(9E) runs, so that modunload sees it (EBUSY) and cannot detach under it.
        var file = new DeviceFile(NextId(), node, node.Dev, flags, cred, process);
        module.AcquireFile(file, call);
        DevT dev = node.Dev;
        Errno rc;
        using var curproc = UmemProcess.EnterIfAny(process);
        try
        {
            if (node.Removed) throw new ErrnoException(Errno.ENXIO, call, $"node {node.Name} was removed");
            rc = module.Driver!.Open(ref dev, flags, OpenType.Char, cred);
        }
        catch (ErrnoException)
        {
            module.ReleaseFile(file);
            throw;
        }
        catch (Exception e)
        {
            module.ReleaseFile(file);
            module.ReportException("open(9E)", e);
            throw new ErrnoException(Errno.EIO, call, $"open(9E) threw {e.GetType().Name}: {e.Message}");
        }
        if (rc != Errno.None)
        {
            module.ReleaseFile(file);
            throw DriverErrno.Exception(rc, call, "open(9E)");
        }
        if (dev.Major != node.Dev.Major)
        {
            // A clone open may change the minor, never the major; close what the driver opened and refuse.
            try
            {
                _ = module.Driver!.Close(dev, flags, OpenType.Char, cred);
            }
            catch (Exception e)
            {
                module.ReportException("close(9E)", e);
            }
            module.ReleaseFile(file);
            throw new ErrnoException(Errno.ENXIO, call, $"open(9E) changed the device to {dev}, another driver's major");
        }
        file.Dev = dev;
        _files[file.Id] = file;
        return file;
    }

    private static (Driver Driver, string Name, int Instances, ModuleLoadContext Context) LoadDriver(string path, string call)
    {
        var context = new ModuleLoadContext(path);
        try
        {
            Assembly assembly;
            try
            {
                assembly = context.LoadFromAssemblyPath(path);
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException)
            {
                throw new ErrnoException(Errno.ENOEXEC, call, $"not a loadable .NET assembly: {e.Message}");
            }

            Type type;
            string name;
            int instances;
            if (assembly.GetCustomAttribute<UmemDriverAttribute>() is { } declared)
            {
                type = declared.DriverType;
                name = declared.Name;
                instances = declared.Instances;
                if (!typeof(Driver).IsAssignableFrom(type) || type.IsAbstract)
                    throw new ErrnoException(Errno.ENOEXEC, call, $"[UmemDriver] names {type.FullName}, which is not a concrete Driver");
            }
            else
            {
                Type[] candidates;
                try
                {
                    candidates = [.. assembly.GetExportedTypes().Where(t => typeof(Driver).IsAssignableFrom(t) && !t.IsAbstract)];
                }
                catch (ReflectionTypeLoadException e)
                {
                    throw new ErrnoException(Errno.ENOEXEC, call, $"its types cannot be loaded: {e.LoaderExceptions.FirstOrDefault()?.Message}");
                }
                if (candidates.Length != 1)
                {
                    throw new ErrnoException(Errno.ENOEXEC, call, candidates.Length == 0
                        ? "it has no public type deriving from Umem.Kernel.Ddi.Driver and no [assembly: UmemDriver]"
                        : $"it has {candidates.Length} driver types ({string.Join(", ", candidates.Select(c => c.Name))}); name one with [assembly: UmemDriver]");
                }
                type = candidates[0];
                name = assembly.GetName().Name!;
                instances = 1;
            }
            if (type.GetConstructor(Type.EmptyTypes) is null)
                throw new ErrnoException(Errno.ENOEXEC, call, $"{type.FullName} has no public parameterless constructor");

            Driver driver;
            try
            {
                driver = (Driver)Activator.CreateInstance(type)!;
            }
            catch (TargetInvocationException e)
            {
                var inner = e.InnerException ?? e;
                throw new ErrnoException(Errno.ENOEXEC, call, $"the driver's constructor (_init) threw {inner.GetType().Name}: {inner.Message}");
            }
            return (driver, name, instances, context);
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>
    /// Registers the module, attaches its instances and publishes their nodes. Takes over the load context: any
    /// failure unloads it.
    /// </summary>
    private DriverModule Install(string name, string? path, Driver driver, ModuleLoadContext? context, ModuleOptions options,
        int declaredInstances, string call)
    {
        DriverModule module;
        try
        {
            if (name.Length == 0 || name.Length > DevInfo.MaxNameBytes || name.Contains('/', StringComparison.Ordinal))
                throw new ErrnoException(Errno.EINVAL, call, $"\"{name}\" is not a valid driver name");
            int count = options.Instances ?? declaredInstances;
            if (count is < 1 or > ModuleOptions.MaxInstances)
                throw new ErrnoException(Errno.EINVAL, call, $"{count} instances: must be 1 to {ModuleOptions.MaxInstances}");
            lock (_nodesGate)
            {
                if (_modules.TryGetValue(name, out var loaded))
                    throw new ErrnoException(Errno.EEXIST, call, $"{loaded} is already loaded");
                if (!_nameToMajor.TryGetValue(name, out uint major))
                    _nameToMajor[name] = major = _nextMajor++;
                module = new DriverModule(this, ++_nextModuleId, name, path, major, driver, context, options);
                _modules.Add(name, module);
            }
        }
        catch
        {
            context?.Unload();
            throw;
        }
        int instances = options.Instances ?? declaredInstances;
        driver.SetContext(module.Context);

        for (int i = 0; i < instances; i++)
        {
            var dip = new DevInfo(module, i, options.Properties);
            module.AddInstance(dip);
            if (CallAttach(module, dip)) continue;

            // attach(9E) failed: undo this instance's nodes, detach the earlier ones, and unload.
            dip.RemoveMinorNode(null);
            module.RemoveInstance(dip);
            foreach (var earlier in module.Instances.Reverse())
            {
                if (!CallDetach(module, earlier))
                    module.Report(CeLevel.Warn, $"detach(9E) of instance {earlier.Instance} failed while undoing a failed load");
            }
            _ = Finish(module);
            throw new ErrnoException(Errno.ENXIO, call, $"attach(9E) of {name} instance {i} failed");
        }
        module.MoveTo(ModuleState.Attached);
        foreach (var dip in module.Instances) PublishNodes(dip);
        return module;
    }

    private static bool CallAttach(DriverModule module, DevInfo dip)
    {
        try
        {
            return module.Driver!.Attach(dip, AttachCommand.Attach) == DdiResult.Success;
        }
        catch (Exception e)
        {
            module.ReportException($"attach(9E) of instance {dip.Instance}", e);
            return false;
        }
    }

    /// <summary>detach(9E); on success the instance's remaining nodes go (the framework removes what the driver left).</summary>
    private static bool CallDetach(DriverModule module, DevInfo dip)
    {
        bool ok;
        try
        {
            ok = module.Driver!.Detach(dip, DetachCommand.Detach) == DdiResult.Success;
        }
        catch (Exception e)
        {
            module.ReportException($"detach(9E) of instance {dip.Instance}", e);
            ok = false;
        }
        if (ok) dip.RemoveMinorNode(null);
        return ok;
    }

    /// <summary>_fini, leak reclaim, and the end of the module (its instances are detached).</summary>
    private ModuleUnloadReport Finish(DriverModule module)
    {
        try
        {
            module.Driver!.Fini();
        }
        catch (Exception e)
        {
            module.ReportException("_fini", e);
        }
        foreach (var dip in module.Instances) dip.RemoveMinorNode(null);
        var leaks = module.Allocator.CloseAndReclaim();
        foreach (var leak in leaks) module.Report(CeLevel.Warn, leak.ToString());
        lock (_nodesGate) _modules.Remove(module.Name);
        module.MoveTo(ModuleState.Unloaded);
        module.Release();
        return new ModuleUnloadReport(module.Name, leaks);
    }
}
