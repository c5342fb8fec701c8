using System.Collections.Immutable;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// Reads project(5) lines: <c>projname:projid:comment:user-list:group-list:attributes</c>. Every field is checked
/// and every problem reported with its file, line and field; one bad line refuses the whole file.
/// </summary>
/// <remarks>
/// Differences from Solaris, on purpose: a blank line is an error (Solaris silently stops reading there, which
/// hides every later project); lines starting with '#' are comments; duplicate names or ids are refused
/// (projadd -o allows duplicate ids; Umem keys usage by id, so two names for one id would share a counter
/// silently).
/// </remarks>
internal static class ProjectFileParser
{
    private static readonly string[] s_fieldNames = ["projname", "projid", "comment", "user-list", "group-list", "attributes"];

    internal static ImmutableArray<ProjectEntry> Parse(string text, string file)
    {
        var errors = new List<ConfigFileError>();
        var entries = ImmutableArray.CreateBuilder<ProjectEntry>();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new Dictionary<int, int>();
        string[] lines = text.Split('\n');
        int last = lines.Length;
        while (last > 0 && lines[last - 1].Trim().Length == 0) last--;
        for (int n = 0; n < last; n++)
        {
            int lineNo = n + 1;
            string line = lines[n].TrimEnd('\r');
            void Error(string field, string message) => errors.Add(new ConfigFileError(file, lineNo, field, message));

            if (line.StartsWith('#')) continue;
            if (line.Trim().Length == 0)
            {
                Error("line", "blank line (Solaris stops reading a project file here; remove it)");
                continue;
            }
            string[] f = line.Split(':');
            if (f.Length < 6)
            {
                Error(s_fieldNames[f.Length], $"missing: a project line has 6 ':'-separated fields ({string.Join(':', s_fieldNames)}), this one has {f.Length}");
                continue;
            }
            if (f.Length > 6)
            {
                Error("attributes", "contains ':' (a project line has exactly 6 fields)");
                continue;
            }
            int before = errors.Count;
            if (NameSyntax.CheckName(f[0], digitFirstAllowed: false) is { } nameError)
                Error("projname", nameError);
            int? id = NameSyntax.ParseId(f[1], out string? idError);
            if (idError is not null) Error("projid", idError);
            if (f[2].Any(char.IsControl)) Error("comment", "contains a control character");
            var users = ParseList(f[3], "user-list", Error);
            var groups = ParseList(f[4], "group-list", Error);
            var (attributes, locked) = ParseAttributes(f[5], Error);
            if (errors.Count > before) continue;

            if (names.TryGetValue(f[0], out int firstName))
            {
                Error("projname", $"'{f[0]}' is already defined on line {firstName}");
                continue;
            }
            if (ids.TryGetValue(id!.Value, out int firstId))
            {
                Error("projid", $"{id} is already used on line {firstId}");
                continue;
            }
            names[f[0]] = lineNo;
            ids[id.Value] = lineNo;
            entries.Add(new ProjectEntry(f[0], id.Value, f[2], users, groups, attributes, locked, lineNo));
        }
        return errors.Count > 0 ? throw new ConfigFileException(errors) : entries.ToImmutable();
    }

    private static ImmutableArray<string> ParseList(string field, string fieldName, Action<string, string> error)
    {
        if (field.Length == 0) return [];
        var items = ImmutableArray.CreateBuilder<string>();
        foreach (string item in field.Split(','))
        {
            string name = item.StartsWith('!') ? item[1..] : item;
            if (name.Length == 0)
            {
                error(fieldName, $"empty name in '{field}'");
                return [];
            }
            if (name != "*" && !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '$'))
            {
                error(fieldName, $"'{item}' is not a name, '*', '!name' or '!*'");
                return [];
            }
            items.Add(item);
        }
        return items.ToImmutable();
    }

    private static (ImmutableArray<KeyValuePair<string, string>>, ImmutableArray<RctlValue>) ParseAttributes(
        string field, Action<string, string> error)
    {
        var attributes = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        ImmutableArray<RctlValue> locked = [];
        if (field.Length == 0) return (attributes.ToImmutable(), locked);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string attr in field.Split(';'))
        {
            int eq = attr.IndexOf('=');
            string name = eq < 0 ? attr : attr[..eq];
            string value = eq < 0 ? "" : attr[(eq + 1)..];
            if (!IsAttributeName(name))
            {
                error("attributes", name.Length == 0 ? $"empty attribute in '{field}'" : $"'{name}' is not an attribute name");
                continue;
            }
            if (!seen.Add(name))
            {
                error("attributes", $"'{name}' is given twice");
                continue;
            }
            if (value.FirstOrDefault(c => !NameSyntax.IsValueChar(c)) is var bad && bad != default)
            {
                error("attributes", $"{name}: value contains '{NameSyntax.Printable(bad)}' (letters, digits and -+./_,() only)");
                continue;
            }
            var definition = ResourceControlDefinition.Find(name);
            if (definition is not null)
            {
                if (definition.Entity != RctlEntityKind.Project)
                {
                    error("attributes", $"{name} is a zone control; it belongs in the zones file");
                    continue;
                }
                var values = RctlValueSyntax.Parse(definition, value, out string? rctlError);
                if (values is null)
                {
                    error("attributes", rctlError!);
                    continue;
                }
                locked = [.. values];
            }
            attributes.Add(new KeyValuePair<string, string>(name, value));
        }
        return (attributes.ToImmutable(), locked);
    }

    /// <summary>project(5): an optional organisation prefix ending in ',' and a name of letters, digits, '_', '-', '.'.</summary>
    private static bool IsAttributeName(string name)
    {
        int comma = name.IndexOf(',');
        string stock = comma < 0 ? name : name[(comma + 1)..];
        if (comma >= 0 && (comma == 0 || !name[..comma].All(char.IsAsciiLetterOrDigit))) return false;
        return stock.Length > 0 && char.IsAsciiLetter(stock[0]) &&
               stock.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
    }
}
