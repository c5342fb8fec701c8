using System.Globalization;
using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// Who may open a minor node, as the owner, group and mode of a /dev node (in illumos /etc/minor_perm's job).
/// The host gives the node's socket the same owner and mode.
/// </summary>
/// <param name="Uid">The owner.</param>
/// <param name="Gid">The group.</param>
/// <param name="Mode">The permission bits.</param>
public sealed record NodeAccess(uint Uid, uint Gid, UnixFileMode Mode)
{
    /// <summary>root, group root, 0600: what a node gets when the driver says nothing.</summary>
    public static NodeAccess Default { get; } = new(0, 0, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>A mode from octal digits as chmod(1) takes them ("0666", "640").</summary>
    public static NodeAccess FromOctal(string mode, uint uid = 0, uint gid = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(mode);
        int bits = Convert.ToInt32(mode, 8);
        if (bits is < 0 or > 0x1FF) throw new ArgumentOutOfRangeException(nameof(mode), mode, "permission bits are 0 to 0777");
        return new NodeAccess(uid, gid, (UnixFileMode)bits);
    }

    /// <summary>
    /// Whether <paramref name="cred"/> may open for <paramref name="flags"/>, as open(2) checks a device node's
    /// mode: the owner bits for the owner, else the group bits for a member of the group (primary or
    /// supplementary, groupmember(9F)), else the other bits; root always may.
    /// </summary>
    internal bool Allows(Cred cred, OpenFlags flags)
    {
        if (cred.Uid == 0) return true;
        int bits = (int)Mode;
        int granted = cred.Uid == Uid ? (bits >> 6) & 7 : cred.IsGroupMember(Gid) ? (bits >> 3) & 7 : bits & 7;
        int needed = ((flags & OpenFlags.Read) != 0 ? 4 : 0) | ((flags & OpenFlags.Write) != 0 ? 2 : 0);
        return (granted & needed) == needed;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Uid}:{Gid} 0{Convert.ToString((int)Mode, 8)}");
}

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

/// <summary>A minor node as modinfo lists it.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="Driver">The driver.</param>
/// <param name="Instance">The instance that created it.</param>
/// <param name="Dev">Its device number.</param>
/// <param name="SpecType">S_IFCHR or S_IFBLK.</param>
/// <param name="NodeType">Its node type.</param>
/// <param name="Access">Owner, group and mode.</param>
/// <param name="OpenFiles">Files open on it.</param>
/// <param name="Mappings">Live mappings of it.</param>
public sealed record NodeInfo(string Name, string Driver, int Instance, DevT Dev, SpecType SpecType, string NodeType,
    NodeAccess Access, int OpenFiles, int Mappings);
