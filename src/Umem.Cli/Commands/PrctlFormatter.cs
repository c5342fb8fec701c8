using System.Globalization;
using System.Text;
using Umem.Kernel.ResourceControls;

namespace Umem.Cli.Commands;

/// <summary>
/// prctl(1)'s output, from snapshots only (no data source): the human table of the man page's example, or the
/// parseable form of <c>-P</c> (one space-separated line per value, raw numbers).
/// </summary>
internal static class PrctlFormatter
{
    /// <summary>The column header of the human form.</summary>
    internal const string Header = "NAME    PRIVILEGE       VALUE    FLAG   ACTION                       RECIPIENT";

    /// <summary>Formats <paramref name="entity"/>'s controls (only <paramref name="control"/> when given).</summary>
    internal static string Format(RctlEntitySnapshot entity, string? control, bool parseable)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{entity.Kind.ToString().ToLowerInvariant()}: {entity.Id}: {entity.Name}\n");
        if (!parseable) sb.Append(Header).Append('\n');
        foreach (var c in entity.Controls.Where(c => control is null || c.Name == control))
        {
            bool bytes = (c.Flags & RctlGlobalFlags.Bytes) != 0;
            if (parseable)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{c.Name} usage {c.Usage} - - -\n");
                foreach (var v in c.Values)
                    sb.Append(CultureInfo.InvariantCulture, $"{c.Name} {PrivilegeName(v.Privilege)} {v.Value} {Flag(v)} {v.ActionText} -\n");
                continue;
            }
            sb.Append(c.Name).Append('\n');
            sb.Append(CultureInfo.InvariantCulture, $"        {"usage",-12}{Quantity(c.Usage, bytes),10}\n");
            foreach (var v in c.Values)
                sb.Append(CultureInfo.InvariantCulture, $"        {PrivilegeName(v.Privilege),-12}{Quantity(v.Value, bytes),10}{Flag(v),7}   {v.ActionText,-28}{"-",10}\n");
        }
        return sb.ToString();
    }

    private static string PrivilegeName(RctlPrivilege p) => p switch
    {
        RctlPrivilege.Basic => "basic",
        RctlPrivilege.Privileged => "privileged",
        _ => "system",
    };

    private static string Flag(RctlValue v) => v.IsMaximal ? "max" : "-";

    private static string Quantity(ulong value, bool bytes) =>
        bytes ? ByteUnits.Format(value) : value.ToString(CultureInfo.InvariantCulture);
}
