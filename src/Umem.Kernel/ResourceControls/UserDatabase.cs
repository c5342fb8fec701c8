using System.Globalization;

namespace Umem.Kernel.ResourceControls;

/// <summary>A passwd(5) entry: the fields project resolution needs.</summary>
public sealed record PasswdEntry(string Name, uint Uid, uint Gid);

/// <summary>A group(5) entry.</summary>
public sealed record GroupEntry(string Name, uint Gid, IReadOnlyList<string> Members);

/// <summary>
/// Users and groups read from passwd(5) and group(5) files (by default /etc/passwd and /etc/group), parsed here
/// rather than through getpwuid so the host needs no NSS and tests can use their own files. As the C library
/// does, lines it cannot read (NIS "+" entries, too few fields, non-numeric ids) are skipped.
/// </summary>
public sealed class UserDatabase
{
    private readonly Dictionary<uint, PasswdEntry> _byUid = [];
    private readonly Dictionary<string, PasswdEntry> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, GroupEntry> _groupsByGid = [];
    private readonly Dictionary<string, GroupEntry> _groupsByName = new(StringComparer.Ordinal);

    private UserDatabase(IEnumerable<PasswdEntry> users, IEnumerable<GroupEntry> groups)
    {
        // The first entry for an id or name wins, as getpwuid/getgrgid return the first match.
        foreach (var u in users)
        {
            _byUid.TryAdd(u.Uid, u);
            _byName.TryAdd(u.Name, u);
        }
        foreach (var g in groups)
        {
            _groupsByGid.TryAdd(g.Gid, g);
            _groupsByName.TryAdd(g.Name, g);
        }
    }

    /// <summary>Reads /etc/passwd and /etc/group (or the given files).</summary>
    public static UserDatabase Load(string passwdPath = "/etc/passwd", string groupPath = "/etc/group") =>
        Parse(File.ReadAllText(passwdPath), File.ReadAllText(groupPath));

    /// <summary>Parses passwd and group text.</summary>
    public static UserDatabase Parse(string passwd, string group)
    {
        var users = new List<PasswdEntry>();
        foreach (var f in Fields(passwd, 7))
        {
            if (TryId(f[2], out uint uid) && TryId(f[3], out uint gid))
                users.Add(new PasswdEntry(f[0], uid, gid));
        }
        var groups = new List<GroupEntry>();
        foreach (var f in Fields(group, 4))
        {
            if (TryId(f[2], out uint gid))
                groups.Add(new GroupEntry(f[0], gid, f[3].Split(',', StringSplitOptions.RemoveEmptyEntries)));
        }
        return new UserDatabase(users, groups);
    }

    public PasswdEntry? FindUser(uint uid) => _byUid.GetValueOrDefault(uid);

    public PasswdEntry? FindUser(string name) => _byName.GetValueOrDefault(name);

    public GroupEntry? FindGroup(uint gid) => _groupsByGid.GetValueOrDefault(gid);

    public GroupEntry? FindGroup(string name) => _groupsByName.GetValueOrDefault(name);

    /// <summary>The groups that list <paramref name="user"/> as a member (supplementary groups).</summary>
    public IReadOnlyCollection<string> SupplementaryGroups(string user) =>
        [.. _groupsByName.Values.Where(g => g.Members.Contains(user)).Select(g => g.Name)];

    private static IEnumerable<string[]> Fields(string text, int count)
    {
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] is '#' or '+' or '-') continue;
            string[] f = line.Split(':');
            if (f.Length >= count && f[0].Length > 0) yield return f;
        }
    }

    private static bool TryId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
}
