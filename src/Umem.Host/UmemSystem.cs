using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Umem.Host.Admin;
using Umem.Kernel.Ddi;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// A running Umem: driver memory, resource controls, the DDI kernel with its modules, and the device host that
/// serves every minor node a driver creates as a socket in the device directory. This is what `umem host` runs
/// and what `umem demo` embeds.
/// </summary>
/// <remarks>Disposal order: connections first (their mappings, locks and opens are released through the drivers),
/// then the modules (detach, leak reports), then the memory.</remarks>
public sealed class UmemSystem : IAsyncDisposable
{
    private readonly ILogger _log;
    private readonly UmemSystemOptions _options;
    private readonly AdminListener? _admin;
    private bool _disposed;

    private UmemSystem(UmemSystemOptions options, ILoggerFactory loggerFactory)
    {
        _log = loggerFactory.CreateLogger<UmemSystem>();
        _options = options;
        Allocator = new UmemAllocator(options.Memory);
        Metrics = new UmemMetrics(this);
        try
        {
            ResourceControls = ResourceControlRegistry.Load(options.ProjectFile, options.ZonesFile);
            // The host's own uid administers it (the admin socket's changes), as root does.
            ResourceControls.AdministratorUid = ProcessHardening.EffectiveUid;
            Kernel = new UmemKernel(Allocator, NodePermissionsOf(options, ResourceControls.Users));
            Devices = new DeviceHost(Kernel, ResourceControls, options.Host, loggerFactory.CreateLogger<DeviceHost>(), Metrics);
            _admin = AdminListener.Start(this, loggerFactory.CreateLogger("Umem.Host.Admin"));
        }
        catch
        {
            Devices?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Kernel?.Dispose();
            Allocator.Dispose();
            Metrics.Dispose();
            throw;
        }
        Kernel.NodeAdded += (_, e) => Devices.Publish(e.Node);
        Kernel.NodeRemoved += (_, e) => Devices.Unpublish(e.Node.Name);
        Kernel.Message += (_, e) => Log.KernelMessage(_log, e.Message);
        ResourceControls.ActionFired += OnRctlDenied;
    }

    /// <summary>A ddi_umem_lock refused by a project's or zone's value: counted and logged (rate-limited).</summary>
    private void OnRctlDenied(object? sender, RctlActionEventArgs e)
    {
        string control = e.Entity.LockedMemory.Definition.Name;
        Metrics.Denied(control);
        if (Devices.LogLimit.TryWrite(out long dropped))
            Log.RctlDenied(_log, e.Increment, e.RecipientPid, e.Entity.ToString(), control, e.Usage, e.Value.Value, dropped);
    }

    /// <summary>Starts a system: creates the device directory and loads the resource-control files.</summary>
    /// <exception cref="ConfigFileException">A resource-control file is malformed (refused whole).</exception>
    public static UmemSystem Start(UmemSystemOptions? options = null, ILoggerFactory? loggerFactory = null) =>
        new(options ?? new UmemSystemOptions(), loggerFactory ?? NullLoggerFactory.Instance);

    /// <summary>
    /// The node permissions: the minor_perm file and the extra lines; a host that may not chown owns the nodes
    /// nobody named an owner for (so `umem host` works as an ordinary user); a privileged one gives them the owner
    /// their driver asked for.
    /// </summary>
    private static NodePermissionPolicy NodePermissionsOf(UmemSystemOptions options, UserDatabase users)
    {
        string? file = options.MinorPermFile ??
            (File.Exists(ResourceControlFiles.SystemMinorPermFile) ? ResourceControlFiles.SystemMinorPermFile : null);
        var table = file is null ? MinorPermTable.Empty : MinorPermTable.Load(file, users);
        if (options.NodePermissions.Count > 0)
            table = table.Concat(MinorPermTable.Parse(string.Join('\n', options.NodePermissions), "--node-perm", users));
        bool privileged = ProcessHardening.MayChownToAnyone;
        return new NodePermissionPolicy(table, ProcessHardening.EffectiveUid, ProcessHardening.EffectiveGid, OwnsDriverNodes: !privileged);
    }

    /// <summary>Driver memory (ddi_umem_alloc).</summary>
    public UmemAllocator Allocator { get; }

    /// <summary>Projects, zones and their locked-memory controls.</summary>
    public ResourceControlRegistry ResourceControls { get; }

    /// <summary>Modules, nodes, open files and mappings.</summary>
    public UmemKernel Kernel { get; }

    /// <summary>The sockets applications connect to.</summary>
    public DeviceHost Devices { get; }

    /// <summary>The instruments of the meter "Umem", and the counts `umem stat` shows.</summary>
    public UmemMetrics Metrics { get; }

    /// <summary>The admin socket's path; null when the host has none.</summary>
    public string? AdminSocketPath => _admin?.Path;

    /// <summary>
    /// Re-reads the project and zones files (and passwd/group) the system started with, as <c>projmod -A</c>
    /// applies a changed project file: each file is parsed whole first, so a bad one changes nothing.
    /// minor_perm lines apply to nodes as they are created, not to published ones.
    /// </summary>
    /// <exception cref="ConfigFileException">A file is malformed; the running values stay.</exception>
    public void ReloadConfiguration()
    {
        ResourceControls.ReloadFiles(_options.ProjectFile, _options.ZonesFile, UserDatabase.Load());
    }

    /// <summary>
    /// <see cref="ReloadConfiguration"/> as SIGHUP and the admin socket's reload run it: logged; null when it took,
    /// else why it was refused (file:line:field), the running values staying.
    /// </summary>
    public string? Reload()
    {
        try
        {
            ReloadConfiguration();
            Log.Reloaded(_log);
            return null;
        }
        catch (Exception e) when (e is ConfigFileException or IOException or UnauthorizedAccessException)
        {
            Log.ReloadRefused(_log, e.Message);
            return e.Message;
        }
    }

    /// <summary>modload: loads a driver assembly; its nodes appear in the device directory. `umem host -d` and the admin socket's modload.</summary>
    public DriverModule Load(string assemblyPath, ModuleOptions? options = null)
    {
        var module = Kernel.ModLoad(assemblyPath, options);
        Log.ModuleLoaded(_log, module.Name, assemblyPath);
        return module;
    }

    /// <summary>modunload: EBUSY while any node of the module is open or mapped; reports (and logs) unfreed memory.</summary>
    public ModuleUnloadReport Unload(string name)
    {
        var report = Kernel.ModUnload(name);
        foreach (var leak in report.Leaks) Log.ModuleLeak(_log, name, leak.ToString());
        Log.ModuleUnloaded(_log, name, report.Leaks.Count);
        return report;
    }

    /// <summary>The path of a node's socket.</summary>
    public string NodePath(string name) => Path.Combine(Devices.DeviceDirectory, name);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_admin is not null) await _admin.DisposeAsync().ConfigureAwait(false);
        await Devices.DisposeAsync().ConfigureAwait(false);
        Kernel.Dispose();
        Allocator.Dispose();
        Metrics.Dispose();
    }
}
