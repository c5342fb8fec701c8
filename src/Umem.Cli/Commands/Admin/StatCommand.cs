using System.CommandLine;
using System.Text;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// <c>umem stat</c>: the host's figures (kstat(8)'s idea; vmstat(8)'s form with <c>--interval</c>): cookies and bytes by
/// kind, budget, mappings, opens, connections, waiters, denials, and locked bytes per project and zone.
/// </summary>
public static class StatCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var interval = CliOptions.Int("--interval", "Print one line every N seconds, like vmstat, until Ctrl+C (or --count lines).", 1, 86400);
        var count = CliOptions.Int("--count", "With --interval: stop after this many lines.", 1, int.MaxValue);
        var hostDir = HostAdmin.HostDirOption();
        var json = HostAdmin.JsonOption();
        var command = new Command("stat", $"Show the running host's figures; with --interval, one line per interval. {HostAdmin.ExitStatusHelp}")
        {
            interval, count, hostDir, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            bool asJson = parse.GetValue(json);
            var request = new AdminRequest { Op = AdminOp.Stat };
            if (parse.GetValue(interval) is not { } seconds)
            {
                var reply = HostAdmin.Call("stat", parse.GetValue(hostDir), request, error, out int status);
                if (reply?.Stat is not { } stat) return status;
                output.Write(asJson ? HostAdmin.Json(reply) + "\n" : Full(stat));
                return ExitCodes.Success;
            }
            int lines = parse.GetValue(count) ?? int.MaxValue;
            for (int i = 0; i < lines; i++)
            {
                if (i > 0)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(seconds), ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return ExitCodes.Success; // Ctrl+C ends a vmstat-like run
                    }
                }
                var reply = HostAdmin.Call("stat", parse.GetValue(hostDir), request, error, out int status);
                if (reply?.Stat is not { } stat) return status;
                if (asJson) output.WriteLine(HostAdmin.Json(reply));
                else output.Write(Line(stat, header: i % 20 == 0));
                output.Flush();
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static readonly string[] s_lineHeaders =
        ["CONNS", "OPENS", "MAPS", "PG-COOKIES", "PG-BYTES", "LK-COOKIES", "LK-BYTES", "LOCKED", "WAITERS", "DENIALS", "REQUESTS"];

    /// <summary>One vmstat-like line (with the header every 20 lines).</summary>
    internal static string Line(StatView s, bool header)
    {
        var table = new TextTable(s_lineHeaders);
        table.Add(s.Connections, s.Opens, s.Mappings, s.PageableCookies, s.PageableBytes, s.LockedCookies, s.LockedBytes,
            s.LockedByEntity.Where(u => u.Kind == "project").Aggregate(0UL, (sum, u) => sum + u.Locked), s.Waiters, s.Denials.Values.Sum(), s.Requests.Values.Sum());
        string text = table.ToString();
        return header ? text : text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..];
    }

    /// <summary>The whole view: figures, locked memory per project and zone, denials by limit, requests by type and result.</summary>
    internal static string Full(StatView s)
    {
        var sb = new StringBuilder();
        var figures = new TextTable("FIGURE", "VALUE");
        figures.Add("pageable cookies", s.PageableCookies).Add("pageable bytes", s.PageableBytes)
            .Add("locked cookies", s.LockedCookies).Add("locked bytes", s.LockedBytes)
            .Add("budget bytes", s.BudgetBytes).Add("budget locked bytes", s.BudgetLockedBytes)
            .Add("mappings", s.Mappings).Add("opens", s.Opens).Add("connections", s.Connections)
            .Add("connections closed", s.ConnectionsClosed).Add("waiters", s.Waiters);
        sb.Append(figures);
        var locked = new TextTable("KIND", "ID", "NAME", "LOCKED-BYTES", "LIMIT");
        foreach (var u in s.LockedByEntity) locked.Add(u.Kind, u.Id, u.Name, u.Locked, u.Limit);
        if (locked.Count > 0) sb.Append('\n').Append(locked);
        var denials = new TextTable("DENIED-BY", "COUNT");
        foreach (var (limit, n) in s.Denials) denials.Add(limit, n);
        if (denials.Count > 0) sb.Append('\n').Append(denials);
        var requests = new TextTable("REQUEST", "RESULT", "COUNT");
        foreach (var (key, n) in s.Requests)
        {
            string[] parts = key.Split(' ', 2);
            requests.Add(parts[0], parts.Length > 1 ? parts[1] : "", n);
        }
        if (requests.Count > 0) sb.Append('\n').Append(requests);
        return sb.ToString();
    }
}
