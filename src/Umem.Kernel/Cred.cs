using Umem.Kernel.Ddi;

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
    /// <summary>The host itself (kcred).</summary>
    public static Cred Kernel { get; } = new(Environment.ProcessId, 0, 0, DataModel.LP64);

    public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid} {Model} project {ProjectId} zone {ZoneId}";
}
