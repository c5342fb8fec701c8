using System.Globalization;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// Who a client is, from the kernel only: pid/uid/gid from SO_PEERCRED, supplementary groups from
/// /proc/PID/status, and the data model from the ELF class of the program the process runs. Nothing here
/// comes from a message.
/// </summary>
public static class PeerIdentity
{
    /// <summary>The client's <see cref="Cred"/>; its data model is LP64 when it cannot be determined.</summary>
    public static Cred Resolve(PeerCredentials peer, out uint[] groups, out string? modelProblem)
    {
        groups = ReadSupplementaryGroups(peer.Pid);
        var model = DetectDataModel(peer.Pid, out modelProblem) ?? DataModel.LP64;
        return new Cred(peer.Pid, peer.Uid, peer.Gid, model);
    }

    /// <summary>
    /// ILP32 or LP64 from byte 4 of the ELF header (EI_CLASS: 1 = 32-bit, 2 = 64-bit) of /proc/PID/exe. When
    /// that is a user-mode emulator (its name starts with "qemu-"), the ELF class of the program it runs, named
    /// in /proc/PID/cmdline after the emulator's options, resolved against /proc/PID/cwd. Null, with the reason,
    /// when the process is gone or not readable (the host needs root or the client's uid to read it).
    /// </summary>
    public static DataModel? DetectDataModel(int pid, out string? problem)
    {
        problem = null;
        string proc = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}");
        try
        {
            string exe = proc + "/exe";
            string? target = new FileInfo(exe).LinkTarget;
            string program = exe;
            if (target is not null && Path.GetFileName(target).StartsWith("qemu-", StringComparison.Ordinal))
            {
                string[] argv = File.ReadAllText(proc + "/cmdline").Split('\0');
                string? emulated = FindEmulatedProgram(argv);
                if (emulated is null)
                {
                    problem = $"{target} runs no program named in its command line";
                    return null;
                }
                program = Path.IsPathRooted(emulated) ? proc + "/root" + emulated : Path.Combine(proc + "/cwd", emulated);
            }
            return ReadElfClass(program, out problem) switch
            {
                1 => DataModel.ILP32,
                2 => DataModel.LP64,
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{proc}: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// The program a qemu-user command line runs: the first argument after argv[0] that is not an option or an
    /// option's value (qemu-user options all take one value except -h, -help, -singlestep, -one-insn-per-tb,
    /// -strace and -version; "--x" is the same as "-x").
    /// </summary>
    public static string? FindEmulatedProgram(IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        for (int i = 1; i < argv.Count; i++)
        {
            string a = argv[i];
            if (a.Length == 0) return null;
            if (a[0] != '-') return a;
            if (a == "--") return i + 1 < argv.Count && argv[i + 1].Length > 0 ? argv[i + 1] : null;
            string name = a.StartsWith("--", StringComparison.Ordinal) ? a[2..] : a[1..];
            if (name is "h" or "help" or "singlestep" or "one-insn-per-tb" or "strace" or "version") continue;
            i++; // the option's value
        }
        return null;
    }

    private static int ReadElfClass(string path, out string? problem)
    {
        problem = null;
        Span<byte> ident = stackalloc byte[5];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        if (f.ReadAtLeast(ident, 5, throwOnEndOfStream: false) < 5 || ident[0] != 0x7F || ident[1] != (byte)'E'
            || ident[2] != (byte)'L' || ident[3] != (byte)'F')
        {
            problem = $"{path} is not an ELF file";
            return 0;
        }
        if (ident[4] is not (1 or 2)) problem = $"{path} has an unknown ELF class {ident[4]}";
        return ident[4];
    }

    /// <summary>The "Groups:" line of /proc/PID/status; empty when unreadable.</summary>
    private static uint[] ReadSupplementaryGroups(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/status")))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
                return [.. line[7..].Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries)
                    .Select(g => uint.Parse(g, CultureInfo.InvariantCulture))];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Gone or unreadable: only the primary group counts.
        }
        return [];
    }
}
