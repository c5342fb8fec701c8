namespace Umem.Kernel.ResourceControls;

/// <summary>
/// A project or zone as the resource-control layer sees it (kproject_t / zone_t): an id, a name and its
/// locked-memory control. An entity lives as long as the registry, so a charge taken against it can always be
/// returned, even after a reload drops its line from the file.
/// </summary>
public sealed class RctlEntity
{
    private string _name;

    internal RctlEntity(RctlEntityKind kind, int id, string name, IEnumerable<RctlValue> lockedMemoryValues)
    {
        Kind = kind;
        Id = id;
        _name = name;
        LockedMemory = new ResourceControl(
            kind == RctlEntityKind.Project ? ResourceControlDefinition.ProjectMaxLockedMemory : ResourceControlDefinition.ZoneMaxLockedMemory,
            lockedMemoryValues);
    }

    public RctlEntityKind Kind { get; }

    public int Id { get; }

    /// <summary>The name from the file (a reload may rename it).</summary>
    public string Name
    {
        get => Volatile.Read(ref _name);
        internal set => Volatile.Write(ref _name, value);
    }

    /// <summary>project.max-locked-memory or zone.max-locked-memory.</summary>
    public ResourceControl LockedMemory { get; }

    /// <summary>The entity's controls by name (there is one of each kind today).</summary>
    public ResourceControl? FindControl(string name) => LockedMemory.Definition.Name == name ? LockedMemory : null;

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Name} ({Id})";
}
