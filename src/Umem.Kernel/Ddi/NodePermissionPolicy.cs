namespace Umem.Kernel.Ddi;

/// <summary>
/// Who may open each new minor node: the operator's <see cref="MinorPermTable"/> entry when one names the node,
/// else what the driver asked of ddi_create_minor_node(9F); an owner or group left unsaid is the host's default.
/// A host that may not give files away (not root, no CAP_CHOWN) owns every node it did not get an explicit owner
/// for, keeping the driver's mode: its own users, not root, can then open them.
/// </summary>
/// <param name="Table">The operator's entries.</param>
/// <param name="DefaultUid">The owner of nodes nobody named one for (root for a privileged host).</param>
/// <param name="DefaultGid">The group of nodes nobody named one for.</param>
/// <param name="OwnsDriverNodes">True when the host may not chown: a driver's owner and group yield to the defaults.</param>
public sealed record NodePermissionPolicy(MinorPermTable Table, uint DefaultUid, uint DefaultGid, bool OwnsDriverNodes)
{
    /// <summary>No operator entries; driver nodes keep the owner the driver asked for (a privileged host).</summary>
    public static NodePermissionPolicy DriversDecide { get; } = new(MinorPermTable.Empty, 0, 0, false);

    /// <summary>The access node <paramref name="minor"/> of <paramref name="driver"/> gets, given the driver's <paramref name="requested"/>.</summary>
    public NodeAccess Resolve(string driver, string minor, NodeAccess requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        if (Table.Find(driver, minor) is { } e) return new NodeAccess(e.Uid ?? DefaultUid, e.Gid ?? DefaultGid, e.Mode);
        return OwnsDriverNodes ? new NodeAccess(DefaultUid, DefaultGid, requested.Mode) : requested;
    }
}
