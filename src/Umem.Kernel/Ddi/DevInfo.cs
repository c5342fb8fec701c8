using System.Globalization;
using Umem.Kernel.Modules;

namespace Umem.Kernel.Ddi;

/// <summary>
/// One attached instance of a driver: <c>dev_info_t</c>. attach(9E) and detach(9E) receive it; the driver creates
/// its minor nodes on it and finds its services through <see cref="Context"/>.
/// </summary>
public sealed class DevInfo
{
    private readonly Lock _gate = new();
    private readonly List<MinorNode> _nodes = [];

    internal DevInfo(DriverModule module, int instance, IReadOnlyDictionary<string, string> properties)
    {
        Module = module;
        Instance = instance;
        Properties = properties;
    }

    /// <summary>ddi_get_instance(9F): the instance number.</summary>
    public int Instance { get; }

    /// <summary>ddi_driver_name(9F): the driver's name.</summary>
    public string DriverName => Module.Name;

    /// <summary>ddi_driver_major(9F): the driver's major number.</summary>
    public uint Major => Module.Major;

    /// <summary>The module's services: memory, messages, properties.</summary>
    public DdiContext Context => Module.Context;

    /// <summary>The minor nodes of this instance (devi_minor).</summary>
    internal IReadOnlyList<MinorNode> Nodes
    {
        get
        {
            lock (_gate) return [.. _nodes];
        }
    }

    /// <summary>ddi_set_driver_private(9F)/ddi_get_driver_private(9F): the driver's own per-instance object.</summary>
    public object? DriverPrivate { get; set; }

    /// <summary>The instance's properties (driver.conf(5)), from the host's module configuration.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    internal DriverModule Module { get; }

    /// <summary>
    /// ddi_create_minor_node(9F): creates a node applications can open. Fails (<see cref="DdiResult.Failure"/>, with
    /// a message saying why) for a spec type other than S_IFCHR/S_IFBLK, a missing node type, a name that cannot be
    /// a file name in the device directory (empty, ".", "..", '/', NUL, over 64 bytes), or a name already in use in
    /// the host. Nodes created during attach(9E) are published when attach succeeds; later ones at once.
    /// </summary>
    /// <param name="name">The node's name, unique in the host.</param>
    /// <param name="specType">S_IFCHR (or S_IFBLK).</param>
    /// <param name="minorNum">The minor number.</param>
    /// <param name="nodeType">E.g. <see cref="NodeTypes.Pseudo"/>.</param>
    /// <param name="access">
    /// Owner, group and mode; <see cref="NodeAccess.Default"/> (root 0600) when null. The operator's minor_perm entry
    /// for the node overrides it, and a host that may not chown owns the node itself (<see cref="NodePermissionPolicy"/>).
    /// </param>
    public DdiResult CreateMinorNode(string name, SpecType specType, uint minorNum, string nodeType, NodeAccess? access = null)
    {
        string? problem =
            specType is not (SpecType.Char or SpecType.Block) ? $"spec type 0x{(int)specType:x} is neither S_IFCHR nor S_IFBLK" :
            string.IsNullOrEmpty(nodeType) ? "node type is empty" :
            NameProblem(name);
        if (problem is not null)
        {
            Module.Report(CeLevel.Warn, $"ddi_create_minor_node({name}): {problem}");
            return DdiResult.Failure;
        }
        var node = new MinorNode(Module, this, name, specType, Sunddi.MakeDevice(Major, minorNum), nodeType,
            Module.Kernel.NodePermissions.Resolve(Module.Name, name, access ?? NodeAccess.Default));
        if (!Module.Kernel.TryAddNode(node, out string? why))
        {
            Module.Report(CeLevel.Warn, $"ddi_create_minor_node({name}): {why}");
            return DdiResult.Failure;
        }
        lock (_gate) _nodes.Add(node);
        return DdiResult.Success;
    }

    /// <summary>ddi_remove_minor_node(9F): removes the node named <paramref name="name"/>, or every node of the instance when null. Open files keep working.</summary>
    public void RemoveMinorNode(string? name)
    {
        List<MinorNode> gone;
        lock (_gate)
        {
            gone = _nodes.Where(n => name is null || n.Name == name).ToList();
            foreach (var n in gone) _nodes.Remove(n);
        }
        foreach (var n in gone) Module.Kernel.RemoveNode(n);
    }

    /// <summary>ddi_prop_get_int(9F): an integer property, or <paramref name="defaultValue"/> when absent or not a number.</summary>
    public int GetPropInt(string name, int defaultValue) =>
        Properties.TryGetValue(name, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : defaultValue;

    /// <summary>ddi_prop_lookup_string(9F): a string property, or null.</summary>
    public string? GetPropString(string name) => Properties.TryGetValue(name, out var text) ? text : null;

    /// <summary>ddi_report_dev(9F): announces the instance in the host's log.</summary>
    public void ReportDev() => Module.Report(CeLevel.Cont, $"{DriverName}{Instance} is /pseudo/{DriverName}@{Instance}");

    private static string? NameProblem(string? name) =>
        string.IsNullOrEmpty(name) ? "the name is empty" :
        name is "." or ".." ? $"\"{name}\" is not a node name" :
        name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal) ? "the name contains '/' or NUL" :
        System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes ? $"the name is longer than {MaxNameBytes} bytes" :
        null;

    /// <summary>Node names become socket names; sun_path holds 108 bytes with the directory.</summary>
    internal const int MaxNameBytes = 64;

    public override string ToString() => $"{DriverName}{Instance}";
}
