using System.Globalization;

namespace Umem.Platform;

/// <summary>
/// What the host needs of /proc/PID/stat (proc(5)): the state (field 3), the parent's pid (field 4) and when the
/// process started, in clock ticks since boot (field 22). Fields are counted after the last ')', since the command name may hold
/// spaces and parentheses.
/// </summary>
public readonly record struct ProcessStat(char State, int ParentPid, long StartTicks)
{
    /// <summary>USER_HZ: the unit of field 22, fixed at 100 by the kernel's ABI on every Linux architecture Umem runs on.</summary>
    public const int TicksPerSecond = 100;

    /// <summary>Whether the process has exited (a zombie, 'Z', or dead, 'X'): its children are already reparented.</summary>
    public bool HasExited => State is 'Z' or 'X';

    /// <summary>Reads the stat file of the process <paramref name="proc"/> stands for.</summary>
    /// <exception cref="ErrnoException">The read's errno (ESRCH, ENOENT once the process is gone); EINVAL for a malformed line.</exception>
    public static ProcessStat Read(ProcessDirectory proc)
    {
        ArgumentNullException.ThrowIfNull(proc);
        return Parse(proc.ReadText("stat", 4096), proc.Pid);
    }

    /// <summary>Parses one stat line of process <paramref name="pid"/>.</summary>
    public static ProcessStat Parse(string line, int pid)
    {
        ArgumentNullException.ThrowIfNull(line);
        int close = line.LastIndexOf(')');
        var fields = close < 0 ? [] : line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        if (fields.Length < 20 || fields[0].Length != 1 || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid)
            || !long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long start))
            throw new ErrnoException(Errno.EINVAL, $"read /proc/{pid}/stat", "the line has no parent pid or start time where proc(5) puts them");
        return new ProcessStat(fields[0][0], ppid, start);
    }

    /// <summary>Clock ticks since boot now (/proc/uptime), the scale of <see cref="StartTicks"/>.</summary>
    public static long TicksSinceBoot()
    {
        string uptime = File.ReadAllText("/proc/uptime");
        int space = uptime.IndexOf(' ', StringComparison.Ordinal);
        double seconds = double.Parse(space < 0 ? uptime : uptime[..space], CultureInfo.InvariantCulture);
        return (long)(seconds * TicksPerSecond);
    }
}
