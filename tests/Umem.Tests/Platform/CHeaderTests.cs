using System.Diagnostics;
using System.Runtime.InteropServices;
using Umem.Platform;

namespace Umem.Tests.Platform;

/// <summary>
/// Checks every constant the interop layer declares against the system C headers, by compiling and running
/// a small C program with gcc (as Tmds.LibC does for its layouts).
/// </summary>
public sealed class CHeaderTests
{
    private static readonly (string Name, long Value)[] s_constants =
    [
        ("MFD_CLOEXEC", Interop.MFD_CLOEXEC),
        ("MFD_ALLOW_SEALING", Interop.MFD_ALLOW_SEALING),
        ("F_GETFD", Interop.F_GETFD),
        ("F_DUPFD_CLOEXEC", Interop.F_DUPFD_CLOEXEC),
        ("F_SETFD", Interop.F_SETFD),
        ("F_GETFL", Interop.F_GETFL),
        ("FD_CLOEXEC", Interop.FD_CLOEXEC),
        ("F_ADD_SEALS", Interop.F_ADD_SEALS),
        ("F_GET_SEALS", Interop.F_GET_SEALS),
        ("F_SEAL_SEAL", Interop.F_SEAL_SEAL),
        ("F_SEAL_SHRINK", Interop.F_SEAL_SHRINK),
        ("F_SEAL_GROW", Interop.F_SEAL_GROW),
        ("F_SEAL_WRITE", Interop.F_SEAL_WRITE),
        ("F_SEAL_FUTURE_WRITE", Interop.F_SEAL_FUTURE_WRITE),
        ("O_RDONLY", Interop.O_RDONLY),
        ("O_WRONLY", Interop.O_WRONLY),
        ("O_RDWR", Interop.O_RDWR),
        ("O_ACCMODE", Interop.O_ACCMODE),
        ("O_CLOEXEC", Interop.O_CLOEXEC),
        ("PROT_NONE", Interop.PROT_NONE),
        ("PROT_READ", Interop.PROT_READ),
        ("PROT_WRITE", Interop.PROT_WRITE),
        ("PROT_EXEC", Interop.PROT_EXEC),
        ("MAP_SHARED", Interop.MAP_SHARED),
        ("MAP_PRIVATE", Interop.MAP_PRIVATE),
        ("MAP_FIXED", Interop.MAP_FIXED),
        ("MAP_ANONYMOUS", Interop.MAP_ANONYMOUS),
        ("MAP_NORESERVE", Interop.MAP_NORESERVE),
        ("MAP_POPULATE", Interop.MAP_POPULATE),
        ("MADV_DONTNEED", Interop.MADV_DONTNEED),
        ("MADV_REMOVE", Interop.MADV_REMOVE),
        ("MADV_DONTFORK", Interop.MADV_DONTFORK),
        ("FALLOC_FL_KEEP_SIZE", Interop.FALLOC_FL_KEEP_SIZE),
        ("FALLOC_FL_PUNCH_HOLE", Interop.FALLOC_FL_PUNCH_HOLE),
        ("_SC_PAGESIZE", Interop._SC_PAGESIZE),
        ("SIGHUP", Interop.SIGHUP),
        ("SIGABRT", Interop.SIGABRT),
        ("SIGKILL", Interop.SIGKILL),
        ("SIGTERM", Interop.SIGTERM),
        ("SIGSTOP", Interop.SIGSTOP),
        // Sockets, fd passing, peer credentials, process settings (umemd and the client library).
        ("AF_UNIX", Interop.AF_UNIX),
        ("SOCK_STREAM", Interop.SOCK_STREAM),
        ("SOCK_SEQPACKET", Interop.SOCK_SEQPACKET),
        ("SOCK_NONBLOCK", Interop.SOCK_NONBLOCK),
        ("SOCK_CLOEXEC", Interop.SOCK_CLOEXEC),
        ("SHUT_RDWR", Interop.SHUT_RDWR),
        ("SOL_SOCKET", Interop.SOL_SOCKET),
        ("SCM_RIGHTS", Interop.SCM_RIGHTS),
        ("SO_PEERCRED", Interop.SO_PEERCRED),
        ("MSG_CTRUNC", Interop.MSG_CTRUNC),
        ("MSG_TRUNC", Interop.MSG_TRUNC),
        ("MSG_DONTWAIT", Interop.MSG_DONTWAIT),
        ("MSG_NOSIGNAL", Interop.MSG_NOSIGNAL),
        ("MSG_CMSG_CLOEXEC", Interop.MSG_CMSG_CLOEXEC),
        ("PR_GET_DUMPABLE", Interop.PR_GET_DUMPABLE),
        ("PR_SET_DUMPABLE", Interop.PR_SET_DUMPABLE),
        ("RLIMIT_NOFILE", Interop.RLIMIT_NOFILE),
        ("POLLIN", Interop.POLLIN),
        ("POLLOUT", Interop.POLLOUT),
        ("POLLERR", Interop.POLLERR),
        ("POLLHUP", Interop.POLLHUP),
        ("POLLNVAL", Interop.POLLNVAL),
        ("SEEK_SET", Interop.SEEK_SET),
        ("SEEK_END", Interop.SEEK_END),
        ("EPOLL_CLOEXEC", Interop.EPOLL_CLOEXEC),
        ("EPOLL_CTL_ADD", Interop.EPOLL_CTL_ADD),
        ("EPOLL_CTL_DEL", Interop.EPOLL_CTL_DEL),
        ("EPOLL_CTL_MOD", Interop.EPOLL_CTL_MOD),
        ("EPOLLIN", Interop.EPOLLIN),
        ("EPOLLERR", Interop.EPOLLERR),
        ("EPOLLHUP", Interop.EPOLLHUP),
        ("EPOLLRDHUP", Interop.EPOLLRDHUP),
        ("EPOLLONESHOT", Interop.EPOLLONESHOT),
        ("FUTEX_WAIT", Interop.FUTEX_WAIT),
        ("FUTEX_WAKE", Interop.FUTEX_WAKE),
        ("SYS_futex", Interop.SYS_futex),
        ("CLOCK_THREAD_CPUTIME_ID", Interop.CLOCK_THREAD_CPUTIME_ID),
    ];

    public static IEnumerable<string> AllConstantNames() => s_constants.Select(c => c.Name);

    [Fact]
    public void ConstantsMatchTheCHeaders()
    {
        string[] headers = ["sys/mman.h", "fcntl.h", "unistd.h", "linux/falloc.h", "errno.h", "signal.h",
            "sys/socket.h", "sys/prctl.h", "sys/resource.h", "poll.h", "sys/epoll.h", "linux/futex.h", "sys/syscall.h", "time.h"];
        var values = CProbe.PrintLongs(headers, s_constants.Select(c => c.Name).ToArray());
        foreach (var (name, value) in s_constants)
            Assert.True(values[name] == value, $"{name}: C says {values[name]}, C# says {value}");
    }

    [Fact]
    public unsafe void SocketStructLayoutsMatchTheCHeaders()
    {
        var layouts = new (string Expression, long Value)[]
        {
            ("sizeof(struct iovec)", sizeof(Interop.iovec)),
            ("offsetof(struct iovec, iov_len)", (long)Marshal.OffsetOf<Interop.iovec>("iov_len")),
            ("sizeof(struct msghdr)", sizeof(Interop.msghdr)),
            ("offsetof(struct msghdr, msg_namelen)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_namelen")),
            ("offsetof(struct msghdr, msg_iov)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_iov")),
            ("offsetof(struct msghdr, msg_iovlen)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_iovlen")),
            ("offsetof(struct msghdr, msg_control)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_control")),
            ("offsetof(struct msghdr, msg_controllen)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_controllen")),
            ("offsetof(struct msghdr, msg_flags)", (long)Marshal.OffsetOf<Interop.msghdr>("msg_flags")),
            ("sizeof(struct mmsghdr)", sizeof(Interop.mmsghdr)),
            ("offsetof(struct mmsghdr, msg_len)", (long)Marshal.OffsetOf<Interop.mmsghdr>("msg_len")),
            ("sizeof(struct cmsghdr)", sizeof(Interop.cmsghdr)),
            ("offsetof(struct cmsghdr, cmsg_level)", (long)Marshal.OffsetOf<Interop.cmsghdr>("cmsg_level")),
            ("offsetof(struct cmsghdr, cmsg_type)", (long)Marshal.OffsetOf<Interop.cmsghdr>("cmsg_type")),
            ("CMSG_LEN(4)", Interop.CMSG_LEN(4)),
            ("CMSG_SPACE(4)", Interop.CMSG_SPACE(4)),
            ("CMSG_SPACE(4 * 253)", Interop.CMSG_SPACE(4 * 253)),
            ("CMSG_LEN(4 * 253)", Interop.CMSG_LEN(4 * 253)),
            ("(char *)CMSG_DATA((struct cmsghdr *)0) - (char *)0", Interop.CMSG_HDRLEN),
            ("sizeof(struct ucred)", sizeof(Interop.ucred)),
            ("offsetof(struct ucred, uid)", (long)Marshal.OffsetOf<Interop.ucred>("uid")),
            ("offsetof(struct ucred, gid)", (long)Marshal.OffsetOf<Interop.ucred>("gid")),
            ("sizeof(struct rlimit)", sizeof(Interop.rlimit)),
            ("offsetof(struct rlimit, rlim_max)", (long)Marshal.OffsetOf<Interop.rlimit>("rlim_max")),
            ("sizeof(struct pollfd)", sizeof(Interop.pollfd)),
            ("offsetof(struct pollfd, events)", (long)Marshal.OffsetOf<Interop.pollfd>("events")),
            ("offsetof(struct pollfd, revents)", (long)Marshal.OffsetOf<Interop.pollfd>("revents")),
            ("sizeof(struct epoll_event)", sizeof(Interop.epoll_event)),
            ("offsetof(struct epoll_event, data)", (long)Marshal.OffsetOf<Interop.epoll_event>("data")),
            ("sizeof(struct timespec)", sizeof(Interop.timespec)),
            ("offsetof(struct timespec, tv_nsec)", (long)Marshal.OffsetOf<Interop.timespec>("tv_nsec")),
            ("sizeof(struct sockaddr_un)", Interop.SizeofSockaddrUn),
            ("offsetof(struct sockaddr_un, sun_path)", Interop.OffsetofSunPath),
        };
        var values = CProbe.PrintLongs(["stddef.h", "sys/socket.h", "sys/un.h", "sys/uio.h", "sys/resource.h", "poll.h", "time.h", "sys/epoll.h"],
            layouts.Select(l => l.Expression).ToArray());
        foreach (var (e, v) in layouts)
            Assert.True(values[e] == v, $"{e}: C says {values[e]}, C# says {v}");
    }

    [Fact]
    public void ErrnoValuesMatchTheCHeaders()
    {
        var names = Enum.GetValues<Errno>().Where(e => e != Errno.None).Select(e => e.ToString()).ToArray();
        var values = CProbe.PrintLongs(["errno.h"], names);
        foreach (var name in names)
            Assert.True(values[name] == (long)Enum.Parse<Errno>(name), $"{name}: C says {values[name]}");
    }

    [Fact]
    public unsafe void TimespecLayoutMatchesTheCHeader()
    {
        var values = CProbe.PrintLongs(["time.h", "stddef.h"],
            ["sizeof(struct timespec)", "offsetof(struct timespec, tv_sec)", "offsetof(struct timespec, tv_nsec)"]);
        Assert.Equal(values["sizeof(struct timespec)"], sizeof(Interop.timespec));
        Assert.Equal(values["offsetof(struct timespec, tv_sec)"], (long)System.Runtime.InteropServices.Marshal.OffsetOf<Interop.timespec>(nameof(Interop.timespec.tv_sec)));
        Assert.Equal(values["offsetof(struct timespec, tv_nsec)"], (long)System.Runtime.InteropServices.Marshal.OffsetOf<Interop.timespec>(nameof(Interop.timespec.tv_nsec)));
    }

    [Fact]
    public void PageSizeIsTheSystemPageSize()
    {
        var values = CProbe.PrintLongs(["unistd.h"], ["sysconf(_SC_PAGESIZE)"]);
        Assert.Equal(values["sysconf(_SC_PAGESIZE)"], SystemPage.Size);
    }
}

/// <summary>Compiles and runs a C program that prints expressions, for checking interop against headers.</summary>
internal static class CProbe
{
    internal static Dictionary<string, long> PrintLongs(string[] headers, string[] expressions)
    {
        string dir = Directory.CreateTempSubdirectory("umem-cprobe").FullName;
        try
        {
            var src = new System.Text.StringBuilder("#define _GNU_SOURCE\n#include <stdio.h>\n");
            foreach (var h in headers) src.Append("#include <").Append(h).Append(">\n");
            src.Append("int main(void) {\n");
            foreach (var e in expressions)
                src.Append("  printf(\"%s=%lld\\n\", \"").Append(e.Replace("\"", "\\\"")).Append("\", (long long)(").Append(e).Append("));\n");
            src.Append("  return 0;\n}\n");
            File.WriteAllText(Path.Combine(dir, "probe.c"), src.ToString());
            Run("gcc", $"-Wall -Werror -o {dir}/probe {dir}/probe.c");
            string output = Run($"{dir}/probe", "");
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2))
                .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {args} failed: {stderr}");
        return stdout;
    }
}

/// <summary>The capability interop (per-thread capabilities) against linux/capability.h.</summary>
public sealed class CapabilityHeaderTests
{
    [Fact]
    public void CapabilityConstantsAndLayoutsMatchTheCHeaders()
    {
        var values = CProbe.PrintLongs(["stddef.h", "linux/capability.h"],
        [
            "_LINUX_CAPABILITY_VERSION_3", "CAP_IPC_LOCK",
            "sizeof(struct __user_cap_header_struct)", "offsetof(struct __user_cap_header_struct, pid)",
            "sizeof(struct __user_cap_data_struct)", "offsetof(struct __user_cap_data_struct, permitted)",
            "offsetof(struct __user_cap_data_struct, inheritable)",
        ]);
        Assert.Equal(Interop._LINUX_CAPABILITY_VERSION_3, values["_LINUX_CAPABILITY_VERSION_3"]);
        Assert.Equal(Interop.CAP_IPC_LOCK, values["CAP_IPC_LOCK"]);
        Assert.Equal(values["sizeof(struct __user_cap_header_struct)"], System.Runtime.CompilerServices.Unsafe.SizeOf<Interop.__user_cap_header_struct>());
        Assert.Equal(values["offsetof(struct __user_cap_header_struct, pid)"], (long)System.Runtime.InteropServices.Marshal.OffsetOf<Interop.__user_cap_header_struct>("pid"));
        Assert.Equal(values["sizeof(struct __user_cap_data_struct)"], System.Runtime.CompilerServices.Unsafe.SizeOf<Interop.__user_cap_data_struct>());
        Assert.Equal(values["offsetof(struct __user_cap_data_struct, permitted)"], (long)System.Runtime.InteropServices.Marshal.OffsetOf<Interop.__user_cap_data_struct>("permitted"));
        Assert.Equal(values["offsetof(struct __user_cap_data_struct, inheritable)"], (long)System.Runtime.InteropServices.Marshal.OffsetOf<Interop.__user_cap_data_struct>("inheritable"));
    }
}
