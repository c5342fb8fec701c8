namespace Umem.Kernel;

/// <summary>
/// Who is asking: the <c>cred_t</c> a driver's entry points receive, plus the process and data model. For an
/// application in another process every field comes from the kernel (SO_PEERCRED, /proc), never from a message.
/// </summary>
/// <param name="Pid">The process id.</param>
/// <param name="Uid">The effective user id.</param>
/// <param name="Gid">The effective group id.</param>
/// <param name="Model">ILP32 or LP64.</param>
/// <param name="ProjectId">The process's project (project(5)); resolved from uid/gid.</param>
/// <param name="ZoneId">The process's zone; 0 is the global zone.</param>
public sealed record Cred(int Pid, uint Uid, uint Gid, DataModel Model, int ProjectId = 0, int ZoneId = 0)
{
    private readonly uint[] _groups = [];

    /// <summary>The host itself (kcred).</summary>
    public static Cred Kernel { get; } = new(Environment.ProcessId, 0, 0, DataModel.LP64);

    /// <summary>
    /// The supplementary groups (crgetgroups(9F)), sorted; a node's group bits apply to a member of any of them,
    /// as to the primary group.
    /// </summary>
    public IReadOnlyList<uint> Groups
    {
        get => _groups;
        init => _groups = [.. value.Order()];
    }

    /// <summary>groupmember(9F): <paramref name="gid"/> is the primary group or one of the supplementary groups.</summary>
    public bool IsGroupMember(uint gid) => gid == Gid || Array.BinarySearch(_groups, gid) >= 0;

    /// <summary>Equal fields and the same supplementary groups.</summary>
    public bool Equals(Cred? other) =>
        other is not null && Pid == other.Pid && Uid == other.Uid && Gid == other.Gid && Model == other.Model
        && ProjectId == other.ProjectId && ZoneId == other.ZoneId && _groups.AsSpan().SequenceEqual(other._groups);

    public override int GetHashCode() => HashCode.Combine(Pid, Uid, Gid, Model, ProjectId, ZoneId, _groups.Length);

    public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid} {Model} project {ProjectId} zone {ZoneId}";
}
