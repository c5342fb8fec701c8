using System.Globalization;
using Umem.Kernel.Devices;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Host.Admin;

/// <summary>The kernel's snapshots as the admin protocol's views.</summary>
internal static class AdminViews
{
    internal static ModuleView Module(ModuleInfo m) => new(m.Id, m.Name, m.Path, m.Major, m.State.ToString().ToLowerInvariant(), m.LoadedAt,
        m.Instances, [.. m.Nodes.Select(Node)], m.OpenFiles, m.Mappings, m.LiveCookies, m.LiveBytes, m.TotalAllocations);

    internal static UnloadView Unload(ModuleUnloadReport r) =>
        new(r.Module, r.UnloadedAt, [.. r.Leaks.Select(l => new LeakView(l.CookieId, l.Size, l.Type.ToString(), l.Site.ToString(), l.StillExported))]);

    internal static EntityView Entity(RctlEntity e) => Entity(RctlEntitySnapshot.Of(e));

    /// <summary>A project's or zone's controls as the admin protocol's view (also prctl --json's, online or offline).</summary>
    internal static EntityView Entity(RctlEntitySnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new EntityView(s.Kind.ToString().ToLowerInvariant(), s.Id, s.Name, [.. s.Controls.Select(c => new ControlView(c.Name,
            (c.Flags & RctlGlobalFlags.Bytes) != 0, c.Usage,
            [.. c.Values.Select(v => new ValueView(v.Privilege.ToString().ToLowerInvariant(), v.Value, v.Signal?.ShortName()))]))]);
    }

    /// <summary>pmap: every mapping of <paramref name="pid"/> (ESRCH when it holds nothing through the host), or a summary per process.</summary>
    internal static AdminReply Pmap(UmemSystem system, int? pid)
    {
        var mappings = system.Kernel.GetMappings();
        var sessions = system.Devices.Sessions;
        if (pid is { } p)
        {
            var mine = mappings.Where(m => m.Cred.Pid == p).Select(Mapping).ToList();
            if (mine.Count == 0 && !sessions.Any(s => s.Cred.Pid == p))
                throw new ErrnoException(Errno.ESRCH, $"pmap({p})", "no client process with that pid is connected to the host");
            return new AdminReply { Mappings = mine };
        }
        var byPid = mappings.GroupBy(m => m.Cred.Pid).ToDictionary(g => g.Key, g => (Count: g.Count(), Bytes: g.Sum(m => m.Regions.Sum(r => r.Length))));
        var processes = sessions.GroupBy(s => s.Cred.Pid).OrderBy(g => g.Key).Select(g =>
        {
            var cred = g.First().Cred;
            var (count, bytes) = byPid.GetValueOrDefault(g.Key);
            var buffers = g.SelectMany(s => s.Process.Buffers).ToList();
            return new ProcessView(g.Key, cred.Uid, cred.Model.ToString(), cred.ProjectId, cred.ZoneId, g.Count(), system.Kernel.CountOpenFiles(g.Key),
                count, bytes, buffers.Count, buffers.Sum(b => b.Length));
        }).ToList();
        return new AdminReply { Processes = processes };
    }

    internal static StatView Stat(UmemSystem system)
    {
        var memory = system.Allocator.GetStatistics();
        var options = system.Allocator.Options;
        var registry = system.ResourceControls;
        var usage = registry.ProjectEntities.Concat(registry.ZoneEntities)
            .Where(e => e.LockedMemory.Usage > 0 || !e.LockedMemory.IsUnlimited)
            .Select(e => new UsageView(e.Kind.ToString().ToLowerInvariant(), e.Id, e.Name, e.LockedMemory.Usage,
                e.LockedMemory.IsUnlimited ? null : e.LockedMemory.Limit))
            .ToList();
        return new StatView
        {
            At = DateTimeOffset.UtcNow,
            PageableCookies = memory.PageableCount,
            PageableBytes = memory.PageableBytes,
            LockedCookies = memory.LockedCount,
            LockedBytes = memory.LockedBytes,
            BudgetBytes = options.MaxBytes,
            BudgetLockedBytes = options.MaxLockedBytes,
            Waiters = memory.Waiters,
            Mappings = system.Kernel.MappingCount,
            Opens = system.Kernel.OpenFileCount,
            Connections = system.Devices.ConnectionCount,
            ConnectionsClosed = system.Devices.ConnectionsClosed,
            LockedByEntity = usage,
            Denials = system.Metrics.DenialCounts(),
            Requests = system.Metrics.RequestCounts(),
        };
    }

    private static NodeView Node(NodeInfo n) => new(n.Name, n.Instance, n.Dev.ToString(),
        "0" + Convert.ToString((int)n.Access.Mode, 8), n.Access.Uid, n.Access.Gid, n.OpenFiles, n.Mappings);

    private static MappingView Mapping(MappingInfo m) => new(m.Id, m.Cred.Pid, m.Cred.Uid, m.Module, m.Node, m.Offset, m.Length,
        Prot(m.Prot), m.Flags.ToString(), m.Cred.Model.ToString(), m.MappedAt,
        [.. m.Regions.Select(r => new RegionView(r.MappingOffset, r.Length, r.DeviceOffset, r.CookieId, r.KernelOffset, Prot(r.MaxProt), r.GrantUnitFds))]);

    /// <summary>pmap's rwx column.</summary>
    private static string Prot(Prot p) => string.Create(CultureInfo.InvariantCulture,
        $"{((p & Platform.Prot.Read) != 0 ? 'r' : '-')}{((p & Platform.Prot.Write) != 0 ? 'w' : '-')}{((p & Platform.Prot.Exec) != 0 ? 'x' : '-')}");
}
