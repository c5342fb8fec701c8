using System.Globalization;
using Umem.Kernel.ResourceControls;

namespace Umem.Kernel.Ddi;

/// <summary>
/// The operator's say over who may open which node, as illumos's /etc/minor_perm (minor_perm(4), written by
/// <c>add_drv -m</c>): lines <c>driver:minor mode [owner [group]]</c>, e.g. <c>xx:* 0666 root root</c>. An entry
/// overrides what the driver asked of ddi_create_minor_node(9F); an exact node name wins over a pattern, else the
/// first matching line. Owner and group are names (passwd(5), group(5)) or numbers; left out (or <c>-</c>), they
/// are the host's default owner and group. A file with any bad line is refused whole, naming file, line and field.
/// </summary>
public sealed class MinorPermTable
{
    private readonly MinorPermEntry[] _entries;

    private MinorPermTable(MinorPermEntry[] entries) => _entries = entries;

    /// <summary>No entries: every node gets what its driver asked for.</summary>
    public static MinorPermTable Empty { get; } = new([]);

    /// <summary>The entries, in file order.</summary>
    public IReadOnlyList<MinorPermEntry> Entries => _entries;

    /// <summary>The entry for node <paramref name="minor"/> of <paramref name="driver"/>, or null.</summary>
    public MinorPermEntry? Find(string driver, string minor)
    {
        MinorPermEntry? pattern = null;
        foreach (var e in _entries)
        {
            if (!e.Matches(driver, minor)) continue;
            if (e.IsExact) return e;
            pattern ??= e;
        }
        return pattern;
    }

    /// <summary>This table followed by <paramref name="more"/> (an exact entry of either still wins over patterns).</summary>
    public MinorPermTable Concat(MinorPermTable more) => new([.. _entries, .. more._entries]);

    /// <summary>Reads a minor_perm file.</summary>
    /// <exception cref="ConfigFileException">A line is malformed (the file is refused whole).</exception>
    public static MinorPermTable Load(string path, UserDatabase users) => Parse(File.ReadAllText(path), path, users);

    /// <summary>Parses minor_perm text; <paramref name="fileName"/> names it in errors.</summary>
    /// <exception cref="ConfigFileException">A line is malformed (the text is refused whole).</exception>
    public static MinorPermTable Parse(string text, string fileName, UserDatabase users)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(users);
        var entries = new List<MinorPermEntry>();
        var errors = new List<ConfigFileError>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            if (string.IsNullOrWhiteSpace(line)) continue;
            var entry = ParseLine(line, users, (field, message) => errors.Add(new ConfigFileError(fileName, i + 1, field, message)));
            if (entry is not null) entries.Add(entry);
        }
        if (errors.Count > 0) throw new ConfigFileException(errors);
        return new MinorPermTable([.. entries]);
    }

    private static MinorPermEntry? ParseLine(string line, UserDatabase users, Action<string, string> error)
    {
        string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length is < 2 or > 4)
        {
            error("line", $"expected 'driver:minor mode [owner [group]]', got {f.Length} field(s)");
            return null;
        }
        int colon = f[0].IndexOf(':', StringComparison.Ordinal);
        string driver = colon < 0 ? "" : f[0][..colon], minor = colon < 0 ? "" : f[0][(colon + 1)..];
        bool ok = true;
        if (driver.Length == 0 || minor.Length == 0 || minor.Contains('/', StringComparison.Ordinal))
        {
            error("name", $"'{f[0]}' is not driver:minor (a node name, or a pattern with '*')");
            ok = false;
        }
        UnixFileMode mode = 0;
        if (!TryMode(f[1], out mode))
        {
            error("mode", $"'{f[1]}' is not octal permission bits 0 to 0777");
            ok = false;
        }
        uint? uid = null, gid = null;
        if (f.Length > 2 && f[2] != "-")
        {
            uid = uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint u) ? u : users.FindUser(f[2])?.Uid;
            if (uid is null)
            {
                error("owner", $"no user '{f[2]}' (passwd(5)) and not a number");
                ok = false;
            }
        }
        if (f.Length > 3 && f[3] != "-")
        {
            gid = uint.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out uint g) ? g : users.FindGroup(f[3])?.Gid;
            if (gid is null)
            {
                error("group", $"no group '{f[3]}' (group(5)) and not a number");
                ok = false;
            }
        }
        return ok ? new MinorPermEntry(driver, minor, mode, uid, gid) : null;
    }

    private static bool TryMode(string text, out UnixFileMode mode)
    {
        mode = 0;
        if (text.Length is 0 or > 4) return false;
        int bits = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '7') return false;
            bits = (bits * 8) + (c - '0');
        }
        if (bits > 0x1FF) return false;
        mode = (UnixFileMode)bits;
        return true;
    }
}
