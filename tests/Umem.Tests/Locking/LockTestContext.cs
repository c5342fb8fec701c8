using Umem.Kernel.Locking;
using Umem.Kernel.ResourceControls;

namespace Umem.Tests.Locking;

/// <summary>A registry from project/zones text and this process as the application.</summary>
internal sealed class LockTestContext : IDisposable
{
    public LockTestContext(string projects = "default:3::::\nuser.root:1::::project.max-locked-memory=(privileged,1073741824,deny)\n",
        string zones = "global:0::\n")
    {
        Registry = new ResourceControlRegistry(ProjectDatabase.Parse(projects, "p"), ZoneDatabase.Parse(zones, "z"), UserDatabase.Load());
        Process = UmemProcess.CreateSelf(Registry);
    }

    public ResourceControlRegistry Registry { get; }

    public UmemProcess Process { get; }

    public static long Page => Umem.Platform.SystemPage.Size;

    public ResourceControl ProjectControl => Process.Project.LockedMemory;

    public ResourceControl ZoneControl => Process.Zone.LockedMemory;

    public void Dispose() => Process.Dispose();
}
