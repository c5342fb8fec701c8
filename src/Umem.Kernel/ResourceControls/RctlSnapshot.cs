namespace Umem.Kernel.ResourceControls;

/// <summary>One control of a project or zone at one moment: usage and values (what prctl shows).</summary>
public sealed record RctlControlSnapshot(string Name, RctlGlobalFlags Flags, ulong Usage, IReadOnlyList<RctlValue> Values);

/// <summary>A project or zone and its controls at one moment.</summary>
public sealed record RctlEntitySnapshot(RctlEntityKind Kind, int Id, string Name, IReadOnlyList<RctlControlSnapshot> Controls)
{
    /// <summary>Takes a snapshot of <paramref name="entity"/>.</summary>
    public static RctlEntitySnapshot Of(RctlEntity entity)
    {
        var c = entity.LockedMemory;
        return new RctlEntitySnapshot(entity.Kind, entity.Id, entity.Name,
            [new RctlControlSnapshot(c.Definition.Name, c.Definition.Flags, c.Usage, c.Values)]);
    }
}

/// <summary>
/// Where prctl gets and changes resource controls. Today a registry built in-process from the files
/// implements it; the host will implement it too, so the command can be pointed at a running umemd without
/// touching its parsing or formatting.
/// </summary>
public interface IResourceControlService
{
    /// <summary>A project or zone by name or id; null when there is none.</summary>
    RctlEntitySnapshot? Find(RctlEntityKind kind, string nameOrId);

    /// <summary>The project and zone of process <paramref name="pid"/> (resolved from its uid, gid and placement).</summary>
    IReadOnlyList<RctlEntitySnapshot> FindProcess(int pid);

    /// <summary>Changes a privileged value; throws ErrnoException (EPERM, ESRCH, EEXIST, EINVAL).</summary>
    void SetValue(Cred caller, RctlEntityKind kind, int id, string control, RctlValueChange change, RctlValue value);
}
