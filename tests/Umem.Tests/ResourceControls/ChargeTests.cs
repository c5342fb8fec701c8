using Umem.Kernel;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Tests.ResourceControls;

/// <summary>rctl_incr_locked_mem / rctl_decr_locked_mem semantics on the registry.</summary>
public sealed class ChargeTests
{
    private static readonly Cred s_root = new(Environment.ProcessId, 0, 0, DataModel.LP64);
    private static readonly Cred s_nobody = new(Environment.ProcessId, 65534, 65534, DataModel.LP64);

    private static ResourceControlRegistry Registry(string projects, string zones = "global:0::\n") =>
        new(ProjectDatabase.Parse(projects, "p"), ZoneDatabase.Parse(zones, "z"), UserDatabase.Load());

    [Fact]
    public void ChargesUpToTheLimitAndDeniesBeyondWithEAGAIN()
    {
        var r = Registry("a:1::::project.max-locked-memory=(privileged,10000,deny)\n");
        var (p, z) = (r.GetProject(1), r.GetZone(0));
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(p, z, 1, 6000, out var c1));
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(p, z, 1, 4000, out var c2));
        Assert.Equal(10000UL, p.LockedMemory.Usage);
        Assert.Equal(10000UL, z.LockedMemory.Usage);   // a charged lock counts in the zone too, as illumos does
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(p, z, 1, 1, out var c3));
        Assert.False(c3.IsCharged);
        Assert.Equal(10000UL, p.LockedMemory.Usage);
        ResourceControlRegistry.UnchargeLockedMemory(c1);
        ResourceControlRegistry.UnchargeLockedMemory(c2);
        Assert.Equal(0UL, p.LockedMemory.Usage);
        Assert.Equal(0UL, z.LockedMemory.Usage);
        Assert.Equal(10000UL, p.LockedMemory.PeakUsage);
    }

    [Fact]
    public void NothingIsChargedWhileBothAreUnlimited()
    {
        var r = Registry("a:1::::\n");
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(r.GetProject(1), r.GetZone(0), 1, 1 << 30, out var c));
        Assert.False(c.IsCharged);
        Assert.Equal(0UL, r.GetProject(1).LockedMemory.Usage);

        // Setting a limit afterwards does not count what was locked before (illumos hazard 5), and the
        // uncharged lock's unlock returns nothing.
        r.SetValue(s_root, r.GetProject(1), RctlValueChange.Replace, new RctlValue(RctlPrivilege.Privileged, 4096));
        ResourceControlRegistry.UnchargeLockedMemory(c);
        Assert.Equal(0UL, r.GetProject(1).LockedMemory.Usage);
    }

    [Fact]
    public void AZoneLimitAloneChargesBothAndTheZoneDenies()
    {
        var r = Registry("a:1::::\nb:2::::\n", "global:0::zone.max-locked-memory=(privileged,8192,deny)\n");
        var z = r.GetZone(0);
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(r.GetProject(1), z, 1, 4096, out var a));
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(r.GetProject(2), z, 1, 4096, out var b));
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(r.GetProject(1), z, 1, 4096, out _));
        // The project's brief reservation was given back when the zone denied.
        Assert.Equal(4096UL, r.GetProject(1).LockedMemory.Usage);
        ResourceControlRegistry.UnchargeLockedMemory(a);
        ResourceControlRegistry.UnchargeLockedMemory(b);
        Assert.Equal(0UL, z.LockedMemory.Usage);
    }

    [Fact]
    public void OverflowIsDenied()
    {
        var r = Registry($"a:1::::project.max-locked-memory=(privileged,{ulong.MaxValue - 1},deny)\n");
        var (p, z) = (r.GetProject(1), r.GetZone(0));
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(p, z, 1, ulong.MaxValue - 1, out var c));
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(p, z, 1, 2, out _));
        ResourceControlRegistry.UnchargeLockedMemory(c);
    }

    [Fact]
    public void UnchargingMoreThanChargedThrows()
    {
        var r = Registry("a:1::::project.max-locked-memory=(privileged,100,deny)\n");
        var bogus = new LockedMemoryCharge(r.GetProject(1), r.GetZone(0), 10);
        Assert.Throws<InvalidOperationException>(() => ResourceControlRegistry.UnchargeLockedMemory(bogus));
        Assert.Equal(0UL, r.GetZone(0).LockedMemory.Usage);
    }

    [Fact]
    public void LoweringALimitBelowUsageDeniesNewChargesAndKeepsOldOnes()
    {
        var r = Registry("a:1::::project.max-locked-memory=(privileged,100000,deny)\n");
        var (p, z) = (r.GetProject(1), r.GetZone(0));
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(p, z, 1, 50000, out var held));
        r.SetValue(s_root, p, RctlValueChange.Replace, new RctlValue(RctlPrivilege.Privileged, 10000));
        Assert.Equal(10000UL, p.LockedMemory.Limit);
        Assert.Equal(50000UL, p.LockedMemory.Usage);
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(p, z, 1, 1, out _));
        ResourceControlRegistry.UnchargeLockedMemory(held);
        Assert.Equal(0UL, p.LockedMemory.Usage);
        Assert.Equal(Errno.None, r.TryChargeLockedMemory(p, z, 1, 10000, out var again));
        ResourceControlRegistry.UnchargeLockedMemory(again);
    }

    [Fact]
    public void OnlyRootChangesValues()
    {
        var r = Registry("a:1::::\n");
        var e = Assert.Throws<ErrnoException>(() =>
            r.SetValue(s_nobody, r.GetProject(1), RctlValueChange.Replace, new RctlValue(RctlPrivilege.Privileged, 1)));
        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.True(r.GetProject(1).LockedMemory.IsUnlimited);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() =>
            r.SetValue(s_root, r.GetProject(1), RctlValueChange.Add, new RctlValue(RctlPrivilege.Basic, 1))).Errno);
    }

    [Fact]
    public void AddReplaceDelete()
    {
        var r = Registry("a:1::::\n");
        var p = r.GetProject(1);
        r.SetValue(s_root, p, RctlValueChange.Add, new RctlValue(RctlPrivilege.Privileged, 8192));
        r.SetValue(s_root, p, RctlValueChange.Add, new RctlValue(RctlPrivilege.Privileged, 4096, RctlSignal.SIGHUP));
        Assert.Equal([4096UL, 8192UL, ulong.MaxValue], p.LockedMemory.Values.Select(v => v.Value));
        Assert.Equal(4096UL, p.LockedMemory.Limit);
        Assert.Equal(Errno.EEXIST, Assert.Throws<ErrnoException>(() =>
            r.SetValue(s_root, p, RctlValueChange.Add, new RctlValue(RctlPrivilege.Privileged, 8192))).Errno);
        r.SetValue(s_root, p, RctlValueChange.Delete, new RctlValue(RctlPrivilege.Privileged, 4096));
        Assert.Equal(8192UL, p.LockedMemory.Limit);
        Assert.Equal(Errno.ESRCH, Assert.Throws<ErrnoException>(() =>
            r.SetValue(s_root, p, RctlValueChange.Delete, new RctlValue(RctlPrivilege.Privileged, 1))).Errno);
        r.SetValue(s_root, p, RctlValueChange.Delete, new RctlValue(RctlPrivilege.Privileged, 8192));
        Assert.True(p.LockedMemory.IsUnlimited);
    }

    [Fact]
    public void TheSignalActionGoesToTheProcessThatTriedToExceed()
    {
        // A real child stands for the application: it is the recipient and receives SIGTERM.
        using var child = ChildProcess.StartReady("exec");
        var r = Registry("a:1::::project.max-locked-memory=(privileged,4096,deny,signal=TERM)\n");
        var events = new List<RctlActionEventArgs>();
        r.ActionFired += (_, e) => events.Add(e);

        Assert.Equal(Errno.None, r.TryChargeLockedMemory(r.GetProject(1), r.GetZone(0), child.Pid, 4096, out var c));
        Assert.Empty(events);
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(r.GetProject(1), r.GetZone(0), child.Pid, 4096, out _));

        var fired = Assert.Single(events);
        Assert.Equal(child.Pid, fired.RecipientPid);
        Assert.Equal(RctlSignal.SIGTERM, fired.Value.Signal);
        Assert.Equal(Errno.None, fired.SignalResult);
        Assert.Equal(128 + 15, child.WaitForExit()); // killed by SIGTERM
        ResourceControlRegistry.UnchargeLockedMemory(c);
    }

    [Fact]
    public void TheHostNeverSignalsItself()
    {
        var r = Registry("a:1::::project.max-locked-memory=(privileged,0,deny,signal=KILL)\n");
        RctlActionEventArgs? fired = null;
        r.ActionFired += (_, e) => fired = e;
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(r.GetProject(1), r.GetZone(0), Environment.ProcessId, 4096, out _));
        Assert.NotNull(fired);
        Assert.Equal(Errno.EPERM, fired.SignalResult);
    }

    [Fact]
    public void ASignalToAProcessThatIsGoneReportsESRCH()
    {
        int pid;
        using (var child = ChildProcess.StartReady("exec"))
        {
            pid = child.Pid;
        }
        var r = Registry("a:1::::project.max-locked-memory=(privileged,0,deny,signal=HUP)\n");
        RctlActionEventArgs? fired = null;
        r.ActionFired += (_, e) => fired = e;
        Assert.Equal(Errno.EAGAIN, r.TryChargeLockedMemory(r.GetProject(1), r.GetZone(0), pid, 4096, out _));
        Assert.Equal(Errno.ESRCH, fired!.SignalResult);
    }

    [Fact]
    public void SignalNamesParse()
    {
        Assert.Equal(RctlSignal.SIGTERM, RctlSignals.Parse("TERM", out _));
        Assert.Equal(RctlSignal.SIGKILL, RctlSignals.Parse("SIGKILL", out _));
        Assert.Equal(RctlSignal.SIGHUP, RctlSignals.Parse("1", out _));
        Assert.Null(RctlSignals.Parse("XRES", out string? e1));
        Assert.Contains("SIGXRES does not exist on Linux", e1, StringComparison.Ordinal);
        Assert.Null(RctlSignals.Parse("SIGINT", out _));
        Assert.Null(RctlSignals.Parse("2", out _));
        Assert.Equal(["SIGABRT", "SIGHUP", "SIGSTOP", "SIGTERM", "SIGKILL"], RctlSignals.Allowed.Select(s => s.ToString()));
    }
}
