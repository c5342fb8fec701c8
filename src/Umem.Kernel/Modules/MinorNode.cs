using Umem.Kernel.Ddi;
using Umem.Platform;

namespace Umem.Kernel.Modules;

/// <summary>
/// A minor node a driver instance created with ddi_create_minor_node(9F): a name applications open (the host
/// serves it as a socket of that name), a device number, and who may open it.
/// </summary>
public sealed class MinorNode
{
    private int _openFiles, _mappings;

    internal MinorNode(DriverModule module, DevInfo devInfo, string name, SpecType specType, DevT dev, string nodeType, NodeAccess access)
    {
        Module = module;
        DevInfo = devInfo;
        Name = name;
        SpecType = specType;
        Dev = dev;
        NodeType = nodeType;
        Access = access;
    }

    /// <summary>The node's name (e.g. "xx0").</summary>
    public string Name { get; }

    /// <summary>S_IFCHR or S_IFBLK.</summary>
    public SpecType SpecType { get; }

    /// <summary>makedevice(driver major, minor).</summary>
    public DevT Dev { get; }

    /// <summary>The minor number.</summary>
    public uint Minor => Dev.Minor;

    /// <summary>The node type (e.g. DDI_PSEUDO).</summary>
    public string NodeType { get; }

    /// <summary>Owner, group and mode.</summary>
    public NodeAccess Access { get; }

    /// <summary>The driver instance that created it.</summary>
    public DevInfo DevInfo { get; }

    /// <summary>The driver's name.</summary>
    public string DriverName => Module.Name;

    /// <summary>Files open on this node now.</summary>
    public int OpenFiles => Volatile.Read(ref _openFiles);

    /// <summary>Live mappings of this node now.</summary>
    public int Mappings => Volatile.Read(ref _mappings);

    internal DriverModule Module { get; }

    /// <summary>Set once ddi_remove_minor_node (or detach) removed it; it cannot be opened afterwards.</summary>
    internal bool Removed { get; set; }

    internal void CountOpen(int delta) => Interlocked.Add(ref _openFiles, delta);

    internal void CountMapping(int delta) => Interlocked.Add(ref _mappings, delta);

    /// <summary>The node's checks of open(2): EACCES when the mode does not allow the access.</summary>
    internal void CheckAccess(Cred cred, OpenFlags flags, string call)
    {
        if (!Access.Allows(cred, flags))
            throw new ErrnoException(Errno.EACCES, call, $"node {Name} is {Access}; uid {cred.Uid} gid {cred.Gid} may not open it {flags.Format()}");
    }

    /// <summary>A snapshot.</summary>
    public NodeInfo GetInfo() => new(Name, DriverName, DevInfo.Instance, Dev, SpecType, NodeType, Access, OpenFiles, Mappings);

    public override string ToString() => $"{Name} ({DriverName}{DevInfo.Instance}, dev {Dev}, {Access})";
}
