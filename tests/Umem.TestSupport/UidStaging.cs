using System.Collections.Concurrent;

namespace Umem.TestSupport;

/// <summary>
/// Makes the programs a test runs as another uid reachable by that uid, wherever the checkout lies: a build
/// folder inside a 0700 directory (a clone under /root, a private home) is copied once to a world-readable
/// staging folder in <see cref="TestTemp.Root"/>, removed when the test process exits.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class UidStaging
{
    private static readonly ConcurrentDictionary<string, string> s_staged = new(StringComparer.Ordinal);
    private static readonly Lazy<string> s_root = new(CreateRoot);

    /// <summary>
    /// <paramref name="path"/> if every user may read it (and search every directory above it), else the same
    /// file in a staged copy of its folder.
    /// </summary>
    public static string Reachable(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full) || IsReachableByOthers(full)) return path;
        string dir = Path.GetDirectoryName(full)!;
        string staged = s_staged.GetOrAdd(dir, Stage);
        return Path.Combine(staged, Path.GetFileName(full));
    }

    /// <summary>Whether "other" may read the file and search every directory on its path.</summary>
    internal static bool IsReachableByOthers(string file)
    {
        if ((File.GetUnixFileMode(file) & UnixFileMode.OtherRead) == 0) return false;
        for (var d = new DirectoryInfo(Path.GetDirectoryName(file)!); d is not null; d = d.Parent)
        {
            if ((d.UnixFileMode & UnixFileMode.OtherExecute) == 0) return false;
        }
        return true;
    }

    private static string Stage(string dir)
    {
        string target = Path.Combine(s_root.Value, $"{s_staged.Count}-{Path.GetFileName(dir)}");
        Copy(new DirectoryInfo(dir), target);
        return target;
    }

    private static void Copy(DirectoryInfo from, string to)
    {
        Directory.CreateDirectory(to, ReadableDirectory);
        foreach (var f in from.EnumerateFiles())
        {
            string dest = Path.Combine(to, f.Name);
            f.CopyTo(dest);
            File.SetUnixFileMode(dest, f.UnixFileMode | UnixFileMode.OtherRead | UnixFileMode.GroupRead |
                ((f.UnixFileMode & UnixFileMode.UserExecute) != 0 ? UnixFileMode.OtherExecute | UnixFileMode.GroupExecute : 0));
        }
        foreach (var d in from.EnumerateDirectories()) Copy(d, Path.Combine(to, d.Name));
    }

    private const UnixFileMode ReadableDirectory =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static string CreateRoot()
    {
        // Inside the test run's temporary directory (sticky and searchable by all, removed at exit).
        TestTemp.Install();
        string root = Path.Combine(TestTemp.Root, "stage");
        Directory.CreateDirectory(root, ReadableDirectory);
        return root;
    }
}
