using System.Globalization;
using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>What the kernel shows of a process that decides its zone: its PID namespace and cgroups.</summary>
/// <param name="PidNamespaceInode">The inode of /proc/PID/ns/pid.</param>
/// <param name="CgroupPaths">Every path in /proc/PID/cgroup (one per hierarchy).</param>
public sealed record ProcessPlacement(ulong PidNamespaceInode, IReadOnlyList<string> CgroupPaths)
{
    /// <summary>Reads /proc/PID/ns/pid and /proc/PID/cgroup; ESRCH when the process does not exist.</summary>
    public static ProcessPlacement Read(int pid)
    {
        string ns = $"/proc/{pid}/ns/pid";
        string? target;
        try
        {
            target = new FileInfo(ns).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ErrnoException(Directory.Exists($"/proc/{pid}") ? Errno.EACCES : Errno.ESRCH, $"readlink(\"{ns}\")", e.Message);
        }
        if (target is null)
            throw new ErrnoException(Errno.ESRCH, $"readlink(\"{ns}\")", "no such process");
        // "pid:[4026531836]"
        int open = target.IndexOf('[', StringComparison.Ordinal);
        if (open < 0 || !target.EndsWith(']') ||
            !ulong.TryParse(target.AsSpan(open + 1, target.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            throw new ErrnoException(Errno.EIO, $"readlink(\"{ns}\")", $"unexpected link '{target}'");

        string cg = $"/proc/{pid}/cgroup";
        string text;
        try
        {
            text = File.ReadAllText(cg);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ErrnoException(Errno.ESRCH, $"open(\"{cg}\")", e.Message);
        }
        // "hierarchy-id:controllers:path" per line; the path may itself contain ':'.
        var paths = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 3))
            .Where(f => f.Length == 3)
            .Select(f => f[2])
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return new ProcessPlacement(inode, paths);
    }

    /// <summary>True when <paramref name="rule"/> places this process.</summary>
    public bool Matches(ZoneMatch rule) => rule.Kind switch
    {
        ZoneMatchKind.PidNamespace => rule.Value == PidNamespaceInode.ToString(CultureInfo.InvariantCulture),
        _ => CgroupPaths.Any(p => IsUnder(p, rule.Value)),
    };

    private static bool IsUnder(string path, string prefix) =>
        prefix == "/" ||
        path == prefix ||
        (path.StartsWith(prefix, StringComparison.Ordinal) && path.Length > prefix.Length && path[prefix.Length] == '/');
}
