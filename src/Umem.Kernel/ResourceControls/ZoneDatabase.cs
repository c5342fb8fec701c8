using System.Collections.Immutable;
using System.Globalization;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// The zones Umem knows: the global zone (id 0) plus named zones from a zones file, each with the rules that
/// place a process in it and its zone.max-locked-memory values.
/// </summary>
/// <remarks>
/// Solaris zones are kernel objects; Linux has none, so Umem places a process by what the kernel does show: the
/// PID namespace it lives in (/proc/PID/ns/pid) or its cgroup (/proc/PID/cgroup). The first zone in file order
/// with a matching rule wins; a process no rule matches is in the global zone.
/// </remarks>
public sealed class ZoneDatabase
{
    private static readonly string[] s_fieldNames = ["zonename", "zoneid", "match-list", "attributes"];

    internal ZoneDatabase(string? path, ImmutableArray<ZoneEntry> entries)
    {
        Path = path;
        Entries = entries;
    }

    /// <summary>A database with the global zone only.</summary>
    public static ZoneDatabase GlobalOnly { get; } = new(null, [ZoneEntry.Global]);

    /// <summary>The file it was read from, if any.</summary>
    public string? Path { get; }

    /// <summary>The global zone first, then the named zones in file order.</summary>
    public ImmutableArray<ZoneEntry> Entries { get; }

    public ZoneEntry Global => Entries[0];

    public ZoneEntry? FindById(int id) => Entries.FirstOrDefault(z => z.Id == id);

    public ZoneEntry? FindByName(string name) => Entries.FirstOrDefault(z => z.Name == name);

    /// <summary>A zone by name, or by id when <paramref name="nameOrId"/> is a number (prctl's -i zone ID).</summary>
    public ZoneEntry? Find(string nameOrId) =>
        FindByName(nameOrId) ?? (int.TryParse(nameOrId, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? FindById(id) : null);

    /// <summary>Reads and validates a zones file; throws <see cref="ConfigFileException"/> naming every bad field.</summary>
    public static ZoneDatabase Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException([new ConfigFileError(path, 0, "file", e.Message)]);
        }
        return Parse(text, path);
    }

    /// <summary>Parses zones-file text; <paramref name="fileName"/> is used in error messages.</summary>
    public static ZoneDatabase Parse(string text, string fileName)
    {
        var errors = new List<ConfigFileError>();
        var entries = new List<ZoneEntry>();
        ZoneEntry global = ZoneEntry.Global;
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new Dictionary<int, int>();
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            int lineNo = n + 1;
            string line = lines[n].TrimEnd('\r');
            void Error(string field, string message) => errors.Add(new ConfigFileError(fileName, lineNo, field, message));
            if (line.Trim().Length == 0 || line.StartsWith('#')) continue;
            string[] f = line.Split(':');
            if (f.Length != 4)
            {
                Error(f.Length < 4 ? s_fieldNames[f.Length] : "attributes",
                    $"a zones line has 4 ':'-separated fields ({string.Join(':', s_fieldNames)}), this one has {f.Length}");
                continue;
            }
            int before = errors.Count;
            if (NameSyntax.CheckName(f[0], digitFirstAllowed: true) is { } nameError) Error("zonename", nameError);
            int? id = NameSyntax.ParseId(f[1], out string? idError);
            if (idError is not null) Error("zoneid", idError);
            var matches = ParseMatches(f[2], Error);
            var values = ParseAttributes(f[3], Error);
            if (errors.Count > before) continue;

            bool isGlobal = f[0] == ZoneEntry.GlobalName;
            if (isGlobal != (id == 0))
            {
                Error(isGlobal ? "zoneid" : "zonename", "the global zone, and only it, is zone 0");
                continue;
            }
            if (isGlobal && matches.Length > 0)
            {
                Error("match-list", "the global zone takes every process no other zone matches; it has no rules");
                continue;
            }
            if (names.TryGetValue(f[0], out int firstName))
            {
                Error("zonename", $"'{f[0]}' is already defined on line {firstName}");
                continue;
            }
            if (ids.TryGetValue(id!.Value, out int firstId))
            {
                Error("zoneid", $"{id} is already used on line {firstId}");
                continue;
            }
            names[f[0]] = lineNo;
            ids[id.Value] = lineNo;
            var entry = new ZoneEntry(f[0], id.Value, matches, values, lineNo);
            if (isGlobal) global = entry;
            else entries.Add(entry);
        }
        if (errors.Count > 0) throw new ConfigFileException(errors);
        return new ZoneDatabase(fileName, [global, .. entries]);
    }

    private static ImmutableArray<ZoneMatch> ParseMatches(string field, Action<string, string> error)
    {
        if (field.Length == 0) return [];
        var list = ImmutableArray.CreateBuilder<ZoneMatch>();
        foreach (string item in field.Split(','))
        {
            if (item.StartsWith("pidns=", StringComparison.Ordinal))
            {
                string v = item["pidns=".Length..];
                if (v.Length == 0 || !v.All(char.IsAsciiDigit) || !ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    error("match-list", $"pidns= needs the decimal inode of a PID namespace, not '{v}'");
                    return [];
                }
                list.Add(new ZoneMatch(ZoneMatchKind.PidNamespace, v));
            }
            else if (item.StartsWith("cgroup=", StringComparison.Ordinal))
            {
                string v = item["cgroup=".Length..];
                if (!v.StartsWith('/') || v.Any(char.IsControl) || v.Contains("//", StringComparison.Ordinal))
                {
                    error("match-list", $"cgroup= needs an absolute cgroup path, not '{v}'");
                    return [];
                }
                list.Add(new ZoneMatch(ZoneMatchKind.CgroupPrefix, v.Length > 1 ? v.TrimEnd('/') : v));
            }
            else
            {
                error("match-list", $"'{item}' is not pidns=INODE or cgroup=/PATH");
                return [];
            }
        }
        return list.ToImmutable();
    }

    private static ImmutableArray<RctlValue> ParseAttributes(string field, Action<string, string> error)
    {
        if (field.Length == 0) return [];
        ImmutableArray<RctlValue> values = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string attr in field.Split(';'))
        {
            int eq = attr.IndexOf('=');
            string name = eq < 0 ? attr : attr[..eq];
            var definition = ResourceControlDefinition.Find(name);
            if (definition is null || definition.Entity != RctlEntityKind.Zone)
            {
                error("attributes", $"'{name}' is not a zone control (zone.max-locked-memory)");
                continue;
            }
            if (!seen.Add(name))
            {
                error("attributes", $"'{name}' is given twice");
                continue;
            }
            var parsed = RctlValueSyntax.Parse(definition, eq < 0 ? "" : attr[(eq + 1)..], out string? rctlError);
            if (parsed is null)
            {
                error("attributes", rctlError!);
                continue;
            }
            values = [.. parsed];
        }
        return values;
    }
}
