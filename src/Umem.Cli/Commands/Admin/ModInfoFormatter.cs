using System.Globalization;
using System.Text;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>modinfo's and modunload's tables.</summary>
internal static class ModInfoFormatter
{
    internal static string Modules(IReadOnlyList<ModuleView> modules)
    {
        var table = new TextTable("ID", "NAME", "MAJOR", "STATE", "INSTANCES", "OPENS", "MAPPINGS", "COOKIES", "BYTES", "ALLOCS", "PATH");
        foreach (var m in modules)
            table.Add(m.Id, m.Name, m.Major, m.State, string.Join(',', m.Instances), m.Opens, m.Mappings, m.Cookies, m.Bytes, m.Allocations, m.Path);
        var nodes = new TextTable("NODE", "MODULE", "INSTANCE", "DEV", "MODE", "OWNER", "OPENS", "MAPPINGS");
        foreach (var m in modules)
        {
            foreach (var n in m.Nodes)
                nodes.Add(n.Name, m.Name, n.Instance, n.Dev, n.Mode, string.Create(CultureInfo.InvariantCulture, $"{n.Uid}:{n.Gid}"), n.Opens, n.Mappings);
        }
        return nodes.Count == 0 ? table.ToString() : table + "\n" + nodes;
    }

    internal static string Unloads(IReadOnlyList<UnloadView> unloads)
    {
        var table = new TextTable("UNLOADED", "MODULE", "LEAKS", "LEAKED-BYTES");
        foreach (var u in unloads)
            table.Add(u.UnloadedAt.ToString("u", CultureInfo.InvariantCulture), u.Module, u.Leaks.Count, u.Leaks.Sum(l => l.Bytes));
        var sb = new StringBuilder(table.ToString());
        foreach (var u in unloads)
        {
            foreach (var l in u.Leaks)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"{u.Module}: leaked cookie {l.Cookie} ({l.Bytes} bytes, {l.Type}) allocated at {l.Site}; reclaimed{(l.StillExported ? " when its last mapping goes" : "")}\n");
            }
        }
        return sb.ToString();
    }
}
