using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.InteropServices;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.Host;

/// <summary>What the kernel says of a connected client (<see cref="PeerIdentity.Resolve(SafeHandle)"/>).</summary>
/// <param name="Pid">The process that connected (SO_PEERCRED).</param>
/// <param name="Uid">Its effective uid at connect time (SO_PEERCRED).</param>
/// <param name="Gid">Its effective gid at connect time (SO_PEERCRED).</param>
/// <param name="Groups">Its supplementary groups (/proc/PID/status); empty when they could not be read.</param>
/// <param name="Model">Its data model; LP64 when it could not be determined (then <paramref name="Problem"/> says why).</param>
/// <param name="Problem">What could not be determined or trusted, for the log; null when everything was.</param>
/// <param name="LockedMemoryLimit">
/// Its soft RLIMIT_MEMLOCK in bytes (/proc/PID/limits): what it may lock itself, and so, unless an administrator's
/// project entry says otherwise, what it may have the host lock for it. Null when unlimited or unreadable (then
/// <paramref name="Problem"/> says so).
/// </param>
/// <param name="Stat">Its parent and start time (/proc/PID/stat), for INHERIT; null when unreadable.</param>
public sealed record IdentifiedPeer(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> Groups, DataModel Model, string? Problem,
    long? LockedMemoryLimit = null, ProcessStat? Stat = null)
{
    /// <summary>The kernel credential (project and zone left at 0).</summary>
    public Cred ToCred() => new(Pid, Uid, Gid, Model);
}

/// <summary>
/// Who a client is, from the kernel only; nothing comes from a message, and nothing the client names is ever
/// opened.
/// <list type="bullet">
/// <item>pid, uid, gid: SO_PEERCRED, as recorded at connect time.</item>
/// <item>The process: a pidfd from SO_PEERPIDFD (Linux 6.5), the kernel's handle on the process that connected
/// (else pidfd_open of its pid, which a reused pid could fool; <see cref="IdentifiedPeer.Problem"/> says so).
/// /proc/PID is opened once as a directory and everything is read relative to it; afterwards the pidfd must
/// still name a live process, so the directory was that process's and not a later one's with the same pid
/// (ESRCH otherwise).</item>
/// <item>Supplementary groups: the Groups: line of status.</item>
/// <item>Data model: the ELF class (EI_CLASS: 1 = ILP32, 2 = LP64) of exe, the kernel's own link to the running
/// image, opened O_RDONLY|O_NONBLOCK and read only if fstat says it is a regular file. When that image is a
/// trusted qemu user-mode emulator (<see cref="FindTrustedEmulator"/>), the emulator's target decides
/// (qemu-i386: ILP32); the guest program the client names in its command line is never looked at.</item>
/// </list>
/// Nothing here waits on a file a client can choose: /proc files do not block, and exe is a regular file the
/// process is executing. (One exception remains: an executable on a FUSE file system whose server stalls. A
/// root host is refused access to another user's FUSE mount unless it was mounted allow_other, and the host bounds
/// identification by its HELLO timer.)
/// </summary>
public static class PeerIdentity
{
    /// <summary>Where a trusted emulator may be: system directories that only root can write.</summary>
    public static IReadOnlyList<string> EmulatorDirectories { get; } = ["/usr/bin", "/usr/local/bin"];

    /// <summary>qemu-user targets with 32-bit guests (qemu-TARGET and qemu-TARGET-static).</summary>
    private static readonly string[] s_ilp32Targets =
    [
        "i386", "arm", "armeb", "hppa", "m68k", "microblaze", "microblazeel", "mips", "mipsel", "mipsn32", "mipsn32el",
        "or1k", "ppc", "riscv32", "sh4", "sh4eb", "sparc", "sparc32plus", "xtensa", "xtensaeb", "hexagon",
    ];

    /// <summary>qemu-user targets with 64-bit guests.</summary>
    private static readonly string[] s_lp64Targets =
    [
        "x86_64", "aarch64", "aarch64_be", "alpha", "loongarch64", "mips64", "mips64el", "ppc64", "ppc64le", "riscv64",
        "s390x", "sparc64",
    ];

    private static readonly FrozenDictionary<string, DataModel> s_emulatorTargets =
        s_ilp32Targets.Select(t => KeyValuePair.Create(t, DataModel.ILP32))
            .Concat(s_lp64Targets.Select(t => KeyValuePair.Create(t, DataModel.LP64)))
            .ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// The identity of the client at the other end of <paramref name="socket"/> (a connected AF_UNIX socket).
    /// Throws <see cref="ErrnoException"/> when the socket has no peer, and ESRCH when the process that connected
    /// is gone (a later process with its pid is never taken for it). Never blocks on a file the client chose.
    /// </summary>
    public static IdentifiedPeer Resolve(SafeHandle socket) => Resolve(socket, usePeerPidfd: true);

    /// <summary><see cref="Resolve(SafeHandle)"/>; without <paramref name="usePeerPidfd"/>, as on a kernel before 6.5.</summary>
    internal static IdentifiedPeer Resolve(SafeHandle socket, bool usePeerPidfd)
    {
        var peer = PeerProcess.GetCredentials(socket);
        var problems = new List<string>();
        var pidfd = usePeerPidfd ? PeerProcess.GetPidfd(socket) : null;
        if (pidfd is null)
        {
            problems.Add("no SO_PEERPIDFD (Linux before 6.5): the process was found by pid (pidfd_open), which cannot tell a reused pid");
            pidfd = PeerProcess.OpenPidfd(peer.Pid);
        }
        using (pidfd) return Identify(peer, pidfd, problems);
    }

    private static IdentifiedPeer Identify(PeerCredentials peer, SafeFd pidfd, List<string> problems)
    {
        uint[] groups = [];
        DataModel? model = null;
        long? lockLimit = 0; // unreadable: nothing may be locked for it unless a project entry allows it
        ProcessStat? stat = null; // unreadable: it cannot inherit a mapping (INHERIT)
        try
        {
            using var proc = ProcessDirectory.Open(peer.Pid);
            try
            {
                groups = ParseGroups(proc.ReadText("status"));
            }
            catch (Exception e) when (e is ErrnoException or FormatException)
            {
                problems.Add($"supplementary groups unknown: {e.Message}");
            }
            try
            {
                lockLimit = ParseLockedMemoryLimit(proc.ReadText("limits"));
            }
            catch (Exception e) when (e is ErrnoException or FormatException)
            {
                problems.Add($"RLIMIT_MEMLOCK unknown, taken as 0: {e.Message}");
            }
            try
            {
                stat = ProcessStat.Read(proc);
            }
            catch (ErrnoException e)
            {
                problems.Add($"parent and start time unknown: {e.Message}");
            }
            model = DetectDataModel(proc, out string? problem);
            if (problem is not null) problems.Add(problem);
        }
        catch (ErrnoException e)
        {
            problems.Add(e.Message);
        }
        if (!PeerProcess.IsAlive(pidfd))
            throw new ErrnoException(Errno.ESRCH, $"identify pid {peer.Pid}", "the process that connected exited before it could be identified");
        if (model is null) problems.Add("data model taken as LP64");
        return new IdentifiedPeer(peer.Pid, peer.Uid, peer.Gid, groups, model ?? DataModel.LP64,
            problems.Count == 0 ? null : string.Join("; ", problems), lockLimit, stat);
    }

    /// <summary>
    /// The data model of the process <paramref name="proc"/> is the directory of: its exe's ELF class, or a
    /// trusted emulator's target. Null, with the reason, when exe cannot be read (the host needs root or the
    /// client's uid) or is not an ELF file; a problem is also reported, with the exe's own class, for a program
    /// named like an emulator that is not a trusted one.
    /// </summary>
    public static DataModel? DetectDataModel(ProcessDirectory proc, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(proc);
        problem = null;
        try
        {
            using var exe = proc.OpenRegularFile("exe", out var image);
            string link = proc.ReadLink("exe");
            const string Deleted = " (deleted)";
            string name = Path.GetFileName(link.EndsWith(Deleted, StringComparison.Ordinal) ? link[..^Deleted.Length] : link);
            if (EmulatorModel(name) is { } guest)
            {
                if (FindTrustedEmulator(name, image) is not null) return guest;
                problem = $"{link} is named like a qemu user-mode emulator but is not a trusted one (a root-owned file in "
                    + $"{string.Join(" or ", EmulatorDirectories)} that only root can change): its own ELF class counts";
            }
            Span<byte> ident = stackalloc byte[5];
            int n = ProcessDirectory.Read(exe, ident);
            var model = ElfClassModel(ident[..n]);
            if (model is null) problem = (problem is null ? "" : problem + "; ") + $"{link} is not an ELF file of a known class";
            return model;
        }
        catch (ErrnoException e)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The trusted emulator file named <paramref name="name"/> that is the same file as <paramref name="image"/>
    /// (device and inode): a regular file in one of <see cref="EmulatorDirectories"/>, the file and every
    /// directory above it owned by root and writable by no one else (<see cref="TrustedPath"/>). Null when there is none.
    /// </summary>
    public static string? FindTrustedEmulator(string name, in FileStatus image)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('/', StringComparison.Ordinal)) return null;
        foreach (var dir in EmulatorDirectories)
        {
            string path = dir + "/" + name;
            try
            {
                using var fd = TrustedPath.Open(path, trustedUid: 0, out var status);
                if (status.IsRegularFile && status.IsSameFile(image)) return path;
            }
            catch (ErrnoException)
            {
                // Not there, or not trusted: not this one.
            }
        }
        return null;
    }

    /// <summary>The guest data model of a qemu user-mode emulator by file name (qemu-i386, qemu-arm-static, ...); null for any other name.</summary>
    public static DataModel? EmulatorModel(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (!fileName.StartsWith("qemu-", StringComparison.Ordinal)) return null;
        string target = fileName["qemu-".Length..];
        if (target.EndsWith("-static", StringComparison.Ordinal)) target = target[..^"-static".Length];
        return s_emulatorTargets.TryGetValue(target, out var model) ? model : null;
    }

    /// <summary>ILP32 or LP64 from the first 5 bytes of an ELF header (EI_CLASS); null if they are not one.</summary>
    public static DataModel? ElfClassModel(ReadOnlySpan<byte> ident) =>
        ident.Length < 5 || !ident[..4].SequenceEqual("\u007FELF"u8) ? null
            : ident[4] switch
            {
                1 => DataModel.ILP32,
                2 => DataModel.LP64,
                _ => null,
            };

    /// <summary>
    /// The soft limit of the "Max locked memory" line of a /proc/PID/limits text, in bytes; null for "unlimited".
    /// </summary>
    /// <exception cref="FormatException">No such line, or not a number.</exception>
    public static long? ParseLockedMemoryLimit(string limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        const string Name = "Max locked memory";
        foreach (var line in limits.Split('\n'))
        {
            if (!line.StartsWith(Name, StringComparison.Ordinal)) continue;
            string soft = line[Name.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
            return soft == "unlimited" ? null : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new FormatException($"no \"{Name}\" line in the limits");
    }

    /// <summary>The "Groups:" line of a /proc/PID/status text; empty when there is none.</summary>
    public static uint[] ParseGroups(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
            return [.. line["Groups:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
                .Select(g => uint.Parse(g, CultureInfo.InvariantCulture))];
        }
        return [];
    }
}
