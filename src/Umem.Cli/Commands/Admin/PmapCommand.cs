using System.CommandLine;
using System.Globalization;
using System.Text;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// <c>umem pmap [PID]</c>: pmap(1) for what the host granted: every mapping of a process with its regions (node,
/// offsets, prot and per-region maxprot, cookie, data model, the memfds the process received), or without a pid one
/// line per client process.
/// </summary>
public static class PmapCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var pid = new Argument<int?>("pid") { Description = "The client process; without it, a summary per process.", Arity = ArgumentArity.ZeroOrOne };
        pid.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && (!int.TryParse(r.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p <= 0))
                r.AddError($"PID: '{r.Tokens[0].Value}' is not a process id");
        });
        var hostDir = HostAdmin.HostDirOption();
        var json = HostAdmin.JsonOption();
        var command = new Command("pmap", $"Show the mappings the running host granted a process, or a summary per process (pmap(1)). {HostAdmin.ExitStatusHelp}")
        {
            pid, hostDir, json,
        };
        command.SetAction(parse =>
        {
            int? p = parse.GetValue(pid);
            return HostAdmin.Show(parse, "pmap", hostDir, json, new AdminRequest { Op = AdminOp.Pmap, Pid = p },
                reply => p is { } one ? Mappings(one, reply.Mappings ?? []) : Processes(reply.Processes ?? []));
        });
        return command;
    }

    /// <summary>One row per region; a mapping's own columns repeat on each of its regions.</summary>
    internal static string Mappings(int pid, IReadOnlyList<MappingView> mappings)
    {
        var table = new TextTable("MAPPING", "NODE", "OFFSET", "LENGTH", "PROT", "MODEL", "REGION-OFFSET", "REGION-LENGTH", "MAXPROT", "COOKIE", "COOKIE-OFFSET", "FDS");
        foreach (var m in mappings)
        {
            foreach (var r in m.Regions)
                table.Add(m.Id, m.Node, m.Offset, m.Length, m.Prot, m.Model, r.MappingOffset, r.Length, r.MaxProt, r.Cookie, r.CookieOffset, r.GrantUnitFds);
        }
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{pid}:\n"));
        sb.Append(table);
        sb.Append(CultureInfo.InvariantCulture,
            $"total {mappings.Count} mappings, {mappings.Sum(m => m.Regions.Sum(r => r.Length))} bytes, {mappings.Sum(m => m.Regions.Sum(r => r.GrantUnitFds))} fds\n");
        return sb.ToString();
    }

    internal static string Processes(IReadOnlyList<ProcessView> processes)
    {
        var table = new TextTable("PID", "UID", "MODEL", "PROJECT", "ZONE", "CONNECTIONS", "OPENS", "MAPPINGS", "MAPPED-BYTES", "BUFFERS", "REGISTERED-BYTES");
        foreach (var p in processes)
            table.Add(p.Pid, p.Uid, p.Model, p.Project, p.Zone, p.Connections, p.Opens, p.Mappings, p.MappedBytes, p.Buffers, p.RegisteredBytes);
        return table.ToString();
    }
}
