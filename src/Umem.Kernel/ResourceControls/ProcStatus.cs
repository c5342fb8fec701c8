using System.Globalization;
using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>A process's effective uid and gid, read from /proc/PID/status.</summary>
public static class ProcStatus
{
    /// <summary>The effective uid and gid of <paramref name="pid"/>; ESRCH when it does not exist.</summary>
    public static (uint Uid, uint Gid) ReadIds(int pid)
    {
        string path = $"/proc/{pid}/status";
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ErrnoException(Errno.ESRCH, $"open(\"{path}\")", e.Message);
        }
        uint? uid = null, gid = null;
        foreach (string line in lines)
        {
            // "Uid:\treal\teffective\tsaved\tfs": the effective id is the second.
            if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = Effective(line);
            else if (line.StartsWith("Gid:", StringComparison.Ordinal)) gid = Effective(line);
        }
        return uid is { } u && gid is { } g ? (u, g) : throw new ErrnoException(Errno.EIO, $"read(\"{path}\")", "no Uid:/Gid: lines");

        static uint Effective(string line) =>
            uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
    }
}
