using System.CommandLine;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// <c>umem modload</c>, <c>modunload</c>, <c>modinfo</c>: modload(8), modunload(8) and modinfo(8) against the running
/// host, through its admin socket. A module loaded or unloaded here goes through the same code as `umem host -d`.
/// </summary>
public static class ModCommands
{
    /// <summary>The command.</summary>
    public static Command ModLoad()
    {
        var path = CliOptions.PathArgument("path", "The driver assembly, or the name of a shipped driver (xx, ring, lockmem).");
        var name = new Option<string?>("--name") { Description = "Load it under this module name instead of the driver's own." };
        var hostDir = HostAdmin.HostDirOption();
        var json = HostAdmin.JsonOption();
        var command = new Command("modload", $"Load a driver module into the running host (modload(8)); prints the module. {HostAdmin.ExitStatusHelp}")
        {
            path, name, hostDir, json,
        };
        command.SetAction(parse =>
        {
            string resolved;
            try
            {
                resolved = Path.GetFullPath(DriverPaths.Resolve(parse.GetValue(path)!));
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"umem modload: {e.Message}");
                return ExitCodes.Usage;
            }
            return HostAdmin.Show(parse, "modload", hostDir, json, new AdminRequest { Op = AdminOp.ModLoad, Path = resolved, Name = parse.GetValue(name) },
                reply => ModInfoFormatter.Modules(reply.Modules ?? []));
        });
        return command;
    }

    /// <summary>The command.</summary>
    public static Command ModUnload()
    {
        var name = CliOptions.PathArgument("name", "The module to unload (modinfo lists them).");
        var hostDir = HostAdmin.HostDirOption();
        var json = HostAdmin.JsonOption();
        var command = new Command("modunload",
            $"Unload a module from the running host (modunload(8)): EBUSY while its nodes are open or mapped; prints what the driver left behind. {HostAdmin.ExitStatusHelp}")
        {
            name, hostDir, json,
        };
        command.SetAction(parse => HostAdmin.Show(parse, "modunload", hostDir, json, new AdminRequest { Op = AdminOp.ModUnload, Name = parse.GetValue(name) },
            reply => ModInfoFormatter.Unloads(reply.Unloads ?? [])));
        return command;
    }

    /// <summary>The command.</summary>
    public static Command ModInfo()
    {
        var name = new Argument<string?>("name") { Description = "Only this module (and its past unloads).", Arity = ArgumentArity.ZeroOrOne };
        var hostDir = HostAdmin.HostDirOption();
        var json = HostAdmin.JsonOption();
        var command = new Command("modinfo",
            $"List the running host's modules (modinfo(8)): instances, nodes, opens, mappings, memory held, and the leak reports of past unloads. {HostAdmin.ExitStatusHelp}")
        {
            name, hostDir, json,
        };
        command.SetAction(parse => HostAdmin.Show(parse, "modinfo", hostDir, json, new AdminRequest { Op = AdminOp.ModInfo, Name = parse.GetValue(name) },
            reply => ModInfoFormatter.Modules(reply.Modules ?? []) + (reply.Unloads is { Count: > 0 } unloads ? "\n" + ModInfoFormatter.Unloads(unloads) : "")));
        return command;
    }
}
