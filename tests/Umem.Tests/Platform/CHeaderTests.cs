using System.Diagnostics;
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
        ("FUTEX_WAIT", Interop.FUTEX_WAIT),
        ("FUTEX_WAKE", Interop.FUTEX_WAKE),
        ("SYS_futex", Interop.SYS_futex),
    ];

    public static IEnumerable<string> AllConstantNames() => s_constants.Select(c => c.Name);

    [Fact]
    public void ConstantsMatchTheCHeaders()
    {
        string[] headers = ["sys/mman.h", "fcntl.h", "unistd.h", "linux/falloc.h", "errno.h", "linux/futex.h", "sys/syscall.h"];
        var values = CProbe.PrintLongs(headers, s_constants.Select(c => c.Name).ToArray());
        foreach (var (name, value) in s_constants)
            Assert.True(values[name] == value, $"{name}: C says {values[name]}, C# says {value}");
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
