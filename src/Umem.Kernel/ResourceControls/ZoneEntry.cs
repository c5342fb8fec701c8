using System.Collections.Immutable;

namespace Umem.Kernel.ResourceControls;

/// <summary>How a process is recognised as a zone's: by its PID namespace or its cgroup.</summary>
public enum ZoneMatchKind
{
    /// <summary>The inode of /proc/PID/ns/pid equals the value.</summary>
    PidNamespace,

    /// <summary>A path in /proc/PID/cgroup is the value or lies below it.</summary>
    CgroupPrefix,
}

/// <summary>One rule of a zone's match list: <c>pidns=4026532000</c> or <c>cgroup=/machine.slice/web</c>.</summary>
public sealed record ZoneMatch(ZoneMatchKind Kind, string Value)
{
    public override string ToString() => Kind == ZoneMatchKind.PidNamespace ? $"pidns={Value}" : $"cgroup={Value}";
}

/// <summary>One line of the zones file: <c>zonename:zoneid:match-list:attributes</c>.</summary>
/// <param name="Name">The zone name; <c>global</c> is zone 0.</param>
/// <param name="Id">The zone id.</param>
/// <param name="Matches">The rules that place a process in this zone.</param>
/// <param name="LockedMemoryValues">The privileged values of zone.max-locked-memory.</param>
/// <param name="Line">The line it came from (0 for the implicit global zone).</param>
public sealed record ZoneEntry(string Name, int Id, ImmutableArray<ZoneMatch> Matches, ImmutableArray<RctlValue> LockedMemoryValues, int Line)
{
    /// <summary>The name of zone 0.</summary>
    public const string GlobalName = "global";

    /// <summary>The global zone with no limit, present when the zones file does not name it.</summary>
    public static ZoneEntry Global { get; } = new(GlobalName, 0, [], [], 0);
}
