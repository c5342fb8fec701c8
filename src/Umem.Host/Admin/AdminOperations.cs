using System.Globalization;
using Microsoft.Extensions.Logging;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Host.Admin;

/// <summary>
/// Runs an authorised admin request against the system and answers with a view. Every figure comes from the
/// kernel's, the allocator's or the registry's own snapshot, taken under their own locks (<see cref="UmemKernel.ModInfo"/>,
/// <see cref="UmemKernel.GetMappings"/>, <see cref="Kernel.Memory.UmemAllocator.GetStatistics"/>); modload, modunload
/// and reload go through <see cref="UmemSystem"/>, the path `umem host -d` and SIGHUP take.
/// </summary>
internal static class AdminOperations
{
    internal static AdminReply Run(UmemSystem system, AdminRequest request, PeerCredentials peer, ILogger log)
    {
        try
        {
            var reply = request.Op switch
            {
                AdminOp.ModInfo => ModInfo(system, request.Name),
                AdminOp.ModLoad => ModLoad(system, request.Path!, request.Name),
                AdminOp.ModUnload => ModUnload(system, request.Name!),
                AdminOp.Pmap => AdminViews.Pmap(system, request.Pid),
                AdminOp.RctlGet => new AdminReply { Entities = [.. Entities(system.ResourceControls, request).Select(AdminViews.Entity)] },
                AdminOp.RctlSet => RctlSet(system.ResourceControls, request, peer),
                AdminOp.Stat => new AdminReply { Stat = AdminViews.Stat(system) },
                _ => Reload(system),
            };
            if (request.IsChange && reply.Error is null) Log.AdminChange(log, AdminRequest.Format(request.Op!.Value), peer.Pid, peer.Uid, Describe(request));
            return reply;
        }
        catch (ErrnoException e)
        {
            if (request.IsChange) Log.AdminChange(log, AdminRequest.Format(request.Op!.Value), peer.Pid, peer.Uid, $"refused: {e.Message}");
            return new AdminReply { Error = e.Errno.Name(), Message = e.Message };
        }
    }

    private static AdminReply ModInfo(UmemSystem system, string? name)
    {
        var modules = system.Kernel.ModInfo().Where(m => name is null || m.Name == name).Select(AdminViews.Module).ToList();
        var unloads = system.Kernel.UnloadHistory.Where(u => name is null || u.Module == name).Select(AdminViews.Unload).ToList();
        if (name is not null && modules.Count == 0 && unloads.Count == 0)
            throw new ErrnoException(Errno.ENOENT, $"modinfo({name})", "no module of that name is loaded or was unloaded");
        return new AdminReply { Modules = modules, Unloads = unloads };
    }

    private static AdminReply ModLoad(UmemSystem system, string path, string? name)
    {
        var module = system.Load(path, new ModuleOptions { Name = name });
        return new AdminReply { Modules = [.. system.Kernel.ModInfo().Where(m => m.Id == module.Id).Select(AdminViews.Module)] };
    }

    private static AdminReply ModUnload(UmemSystem system, string name)
    {
        var report = system.Unload(name);
        return new AdminReply { Unloads = [AdminViews.Unload(report)] };
    }

    private static AdminReply Reload(UmemSystem system)
    {
        string? refused = system.Reload();
        return refused is null ? new AdminReply() : new AdminReply { Error = nameof(Errno.EINVAL), Message = refused };
    }

    /// <summary>The project or zone named, or a process's project and zone (prctl's -i).</summary>
    private static IReadOnlyList<RctlEntity> Entities(ResourceControlRegistry registry, AdminRequest request)
    {
        string id = request.Id!;
        RctlEntity? found = request.IdType switch
        {
            "project" => registry.FindProject(id),
            "zone" => registry.FindZone(id),
            _ => null,
        };
        if (request.IdType != "process")
            return found is null ? throw new ErrnoException(Errno.ESRCH, $"prctl -i {request.IdType} {id}", $"no such {request.IdType}") : [found];
        return registry.EntitiesOf(int.Parse(id, CultureInfo.InvariantCulture));
    }

    private static AdminReply RctlSet(ResourceControlRegistry registry, AdminRequest request, PeerCredentials peer)
    {
        var definition = ResourceControlDefinition.Find(request.Control!)
            ?? throw new ErrnoException(Errno.EINVAL, "setrctl", $"no resource control {request.Control}");
        var target = Entities(registry, request).FirstOrDefault(e => e.Kind == definition.Entity)
            ?? throw new ErrnoException(Errno.EINVAL, "setrctl", $"{request.Control} is a {definition.Entity.ToString().ToLowerInvariant()} control");
        RctlSignal? signal = null;
        if (request.Signal is { } text && (signal = RctlSignals.Parse(text, out string? error)) is null)
            throw new ErrnoException(Errno.EINVAL, "setrctl", error!);
        var change = request.Change switch
        {
            "add" => RctlValueChange.Add,
            "delete" => RctlValueChange.Delete,
            _ => RctlValueChange.Replace,
        };
        registry.SetValue(new Kernel.Cred(peer.Pid, peer.Uid, peer.Gid, Kernel.DataModel.LP64), target, change,
            new RctlValue(RctlPrivilege.Privileged, request.Value!.Value, signal));
        return new AdminReply { Entities = [AdminViews.Entity(target)] };
    }

    private static string Describe(AdminRequest r) => r.Op switch
    {
        AdminOp.ModLoad => $"loaded {r.Path}{(r.Name is null ? "" : $" as {r.Name}")}",
        AdminOp.ModUnload => $"unloaded {r.Name}",
        AdminOp.RctlSet => $"{r.Change} {r.Control} {r.Value}{(r.Signal is null ? "" : $" signal={r.Signal}")} on {r.IdType} {r.Id}",
        _ => "reloaded the project and zones files",
    };
}
