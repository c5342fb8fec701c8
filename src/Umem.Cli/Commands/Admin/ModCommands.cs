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
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string resolved;
            try
            {
                resolved = Path.GetFullPath(DriverPaths.Resolve(parse.GetValue(path)!));
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                error.WriteLine($"umem modload: {e.Message}");
                return ExitCodes.Usage;
            }
            var reply = HostAdmin.Call("modload", parse.GetValue(hostDir), new AdminRequest { Op = AdminOp.ModLoad, Path = resolved, Name = parse.GetValue(name) }, error, out int status);
            if (reply is null) return status;
            output.Write(parse.GetValue(json) ? HostAdmin.Json(reply) + "\n" : ModInfoFormatter.Modules(reply.Modules ?? []));
            return ExitCodes.Success;
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
        command.SetAction(parse =>
        {
            var reply = HostAdmin.Call("modunload", parse.GetValue(hostDir), new AdminRequest { Op = AdminOp.ModUnload, Name = parse.GetValue(name) },
                parse.InvocationConfiguration.Error, out int status);
            if (reply is null) return status;
            parse.InvocationConfiguration.Output.Write(parse.GetValue(json) ? HostAdmin.Json(reply) + "\n" : ModInfoFormatter.Unloads(reply.Unloads ?? []));
            return ExitCodes.Success;
        });
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
        command.SetAction(parse =>
        {
            var reply = HostAdmin.Call("modinfo", parse.GetValue(hostDir), new AdminRequest { Op = AdminOp.ModInfo, Name = parse.GetValue(name) },
                parse.InvocationConfiguration.Error, out int status);
            if (reply is null) return status;
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(HostAdmin.Json(reply));
                return ExitCodes.Success;
            }
            output.Write(ModInfoFormatter.Modules(reply.Modules ?? []));
            if (reply.Unloads is { Count: > 0 } unloads) output.Write("\n" + ModInfoFormatter.Unloads(unloads));
            return ExitCodes.Success;
        });
        return command;
    }
}
