namespace Umem.Kernel.ResourceControls;

/// <summary>Whether a control belongs to a project or a zone.</summary>
public enum RctlEntityKind
{
    Project,
    Zone,
}

/// <summary>RCTL_GLOBAL_* flags of a registered control (only those Umem's controls use).</summary>
[Flags]
public enum RctlGlobalFlags
{
    None = 0,

    /// <summary>The deny action cannot be disabled.</summary>
    DenyAlways = 1,

    /// <summary>Only privileged and system values are allowed.</summary>
    NoBasic = 2,

    /// <summary>Values and usage are bytes (prctl prints them with B/KB/MB… units).</summary>
    Bytes = 4,
}

/// <summary>
/// A resource control as the kernel registers it (rctl_register): its name, the entity it applies to, its
/// global flags and its system value.
/// </summary>
public sealed class ResourceControlDefinition
{
    private ResourceControlDefinition(string name, RctlEntityKind entity, RctlGlobalFlags flags)
    {
        Name = name;
        Entity = entity;
        Flags = flags;
    }

    /// <summary>project.max-locked-memory (project.c): bytes locked by drivers for a project's processes.</summary>
    public static ResourceControlDefinition ProjectMaxLockedMemory { get; } =
        new("project.max-locked-memory", RctlEntityKind.Project,
            RctlGlobalFlags.DenyAlways | RctlGlobalFlags.NoBasic | RctlGlobalFlags.Bytes);

    /// <summary>zone.max-locked-memory (zone.c): bytes locked for all of a zone's processes.</summary>
    public static ResourceControlDefinition ZoneMaxLockedMemory { get; } =
        new("zone.max-locked-memory", RctlEntityKind.Zone,
            RctlGlobalFlags.DenyAlways | RctlGlobalFlags.NoBasic | RctlGlobalFlags.Bytes);

    /// <summary>Every control Umem implements.</summary>
    public static IReadOnlyList<ResourceControlDefinition> All { get; } = [ProjectMaxLockedMemory, ZoneMaxLockedMemory];

    public string Name { get; }

    public RctlEntityKind Entity { get; }

    public RctlGlobalFlags Flags { get; }

    /// <summary>UINT64_MAX: both controls are registered with no system limit.</summary>
    public ulong SystemValue { get; } = ulong.MaxValue;

    /// <summary>The control of this name, or null.</summary>
    public static ResourceControlDefinition? Find(string name) =>
        All.FirstOrDefault(d => d.Name == name);

    /// <summary>
    /// The privilege a caller may set on this control (<c>privileged</c> or <c>priv</c>); null with the reason for
    /// basic (RCTL_GLOBAL_NOBASIC), system (fixed) or anything else.
    /// </summary>
    public RctlPrivilege? ParseSettablePrivilege(string text, out string? error) =>
        RctlValueSyntax.ParsePrivilege(this, text, out error);

    public override string ToString() => Name;
}
