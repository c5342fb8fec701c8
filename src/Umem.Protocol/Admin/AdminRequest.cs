using System.Globalization;
using System.Text.Json.Serialization;

namespace Umem.Protocol.Admin;

/// <summary>What an admin request asks for (the <c>op</c> field).</summary>
public enum AdminOp
{
    /// <summary>Modules, instances, nodes, opens, mappings, memory held, and the reports of past unloads.</summary>
    [JsonStringEnumMemberName("modinfo")]
    ModInfo,

    /// <summary>Loads a driver assembly (a change).</summary>
    [JsonStringEnumMemberName("modload")]
    ModLoad,

    /// <summary>Unloads a module (a change).</summary>
    [JsonStringEnumMemberName("modunload")]
    ModUnload,

    /// <summary>Every mapping of one process, or a summary per process.</summary>
    [JsonStringEnumMemberName("pmap")]
    Pmap,

    /// <summary>The resource controls of a project, a zone, or a process's project and zone.</summary>
    [JsonStringEnumMemberName("rctl-get")]
    RctlGet,

    /// <summary>Adds, replaces or deletes a privileged value (a change).</summary>
    [JsonStringEnumMemberName("rctl-set")]
    RctlSet,

    /// <summary>The host's figures.</summary>
    [JsonStringEnumMemberName("stat")]
    Stat,

    /// <summary>Re-reads the project and zones files, as SIGHUP does (a change).</summary>
    [JsonStringEnumMemberName("reload")]
    Reload,
}

/// <summary>
/// One admin request (the JSON payload). Which fields an operation takes is in docs/protocol.md; a field it does not
/// take must be absent, and <see cref="Validate"/> names the first problem.
/// </summary>
public sealed record AdminRequest
{
    /// <summary>The longest string any field may hold.</summary>
    public const int MaxText = 4096;

    /// <summary>The operation.</summary>
    public AdminOp? Op { get; init; }

    /// <summary>A module name (modinfo, modunload; modload's --name).</summary>
    public string? Name { get; init; }

    /// <summary>modload: the driver assembly, an absolute path.</summary>
    public string? Path { get; init; }

    /// <summary>pmap: the process.</summary>
    public int? Pid { get; init; }

    /// <summary>rctl: <c>process</c>, <c>project</c> or <c>zone</c>.</summary>
    public string? IdType { get; init; }

    /// <summary>rctl: the pid, project or zone (name or number).</summary>
    public string? Id { get; init; }

    /// <summary>rctl-set: the control's name.</summary>
    public string? Control { get; init; }

    /// <summary>rctl-set: <c>add</c> (prctl -s), <c>replace</c> (-r) or <c>delete</c> (-x).</summary>
    public string? Change { get; init; }

    /// <summary>rctl-set: the threshold in bytes.</summary>
    public ulong? Value { get; init; }

    /// <summary>rctl-set: the signal action (TERM, KILL, ...), if any.</summary>
    public string? Signal { get; init; }

    /// <summary>Whether the operation changes the host (root and the host's uid only).</summary>
    public bool IsChange => Op is AdminOp.ModLoad or AdminOp.ModUnload or AdminOp.RctlSet or AdminOp.Reload;

    /// <summary>The first problem with the request's fields, or null when it is well formed.</summary>
    public string? Validate()
    {
        if (Op is not { } op) return "no op";
        foreach (var (field, text) in new[] { ("name", Name), ("path", Path), ("idType", IdType), ("id", Id), ("control", Control), ("change", Change), ("signal", Signal) })
        {
            if (text is null) continue;
            if (text.Length == 0 || text.Length > MaxText) return $"{field} must hold 1 to {MaxText} characters";
            if (text.Any(char.IsControl)) return $"{field} holds a control character";
        }
        string[] allowed = op switch
        {
            AdminOp.ModInfo => ["name"],
            AdminOp.ModLoad => ["path", "name"],
            AdminOp.ModUnload => ["name"],
            AdminOp.Pmap => ["pid"],
            AdminOp.RctlGet => ["idType", "id"],
            AdminOp.RctlSet => ["idType", "id", "control", "change", "value", "signal"],
            _ => [],
        };
        foreach (var (field, present) in Present())
        {
            if (present && !allowed.Contains(field)) return $"{Format(op)} takes no {field}";
        }
        return op switch
        {
            AdminOp.ModLoad when Path is null => "modload needs a path",
            AdminOp.ModLoad when !System.IO.Path.IsPathFullyQualified(Path) => "modload's path must be absolute",
            AdminOp.ModUnload when Name is null => "modunload needs a name",
            AdminOp.Pmap when Pid is <= 0 => "pid must be positive",
            AdminOp.RctlGet or AdminOp.RctlSet when IdType is not ("process" or "project" or "zone") => "idType must be process, project or zone",
            AdminOp.RctlGet or AdminOp.RctlSet when Id is null => $"{Format(op)} needs an id",
            AdminOp.RctlGet or AdminOp.RctlSet when IdType == "process" && !int.TryParse(Id, NumberStyles.None, CultureInfo.InvariantCulture, out _) => "a process id is a number",
            AdminOp.RctlSet when Control is null || Value is null => "rctl-set needs control and value",
            AdminOp.RctlSet when Change is not ("add" or "replace" or "delete") => "change must be add, replace or delete",
            _ => null,
        };
    }

    /// <summary>The wire name of an operation (<c>rctl-set</c>).</summary>
    public static string Format(AdminOp op) => op switch
    {
        AdminOp.ModInfo => "modinfo",
        AdminOp.ModLoad => "modload",
        AdminOp.ModUnload => "modunload",
        AdminOp.Pmap => "pmap",
        AdminOp.RctlGet => "rctl-get",
        AdminOp.RctlSet => "rctl-set",
        AdminOp.Stat => "stat",
        _ => "reload",
    };

    private (string Field, bool Present)[] Present() =>
    [
        ("name", Name is not null), ("path", Path is not null), ("pid", Pid is not null), ("idType", IdType is not null),
        ("id", Id is not null), ("control", Control is not null), ("change", Change is not null), ("value", Value is not null),
        ("signal", Signal is not null),
    ];
}
