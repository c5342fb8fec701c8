using System.Diagnostics;

namespace Umem.Cli.Demo;

/// <summary>
/// The C client's greeter, built with the project's own script (clients/c/build.sh) in 64 and 32 bits, and the same
/// greeter built without any Umem header (plain_greet) with the preload that lets it reach the host (64 bits).
/// </summary>
internal sealed record NativeClients(string? Greet64, string? Greet32, string RunScript, string? Problem64, string? Problem32)
{
    /// <summary>plain_greet and libumem-preload.so (64-bit), when both were built; else null.</summary>
    internal (string Program, string Preload)? Plain64 { get; init; }

    /// <summary>Builds the C clients in <paramref name="dir"/> (a clients/c directory); <paramref name="missing"/> says why there is none.</summary>
    internal static NativeClients Build(string? dir, string? missing = null)
    {
        if (dir is null)
        {
            string why = missing ?? "the C client sources (clients/c) are not beside this build of umem";
            return new(null, null, "", why, why);
        }
        string run = Path.Combine(dir, "run.sh");
        var (code, output) = Run("bash", Path.Combine(dir, "build.sh"), "64", "32");
        string g64 = Path.Combine(dir, "build", "64", "umem_greet");
        string g32 = Path.Combine(dir, "build", "32", "umem_greet");
        string? p64 = File.Exists(g64) ? null : $"the 64-bit C client did not build (build.sh exit {code}): {Last(output)}";
        string? p32 = null;
        if (!File.Exists(g32))
        {
            p32 = "the 32-bit C client did not build: install gcc-multilib (apt-get install gcc-multilib)";
        }
        else
        {
            var (ok, how) = Run("bash", run, "--check", Path.Combine(dir, "build", "32"));
            if (ok != 0) p32 = "this kernel cannot run 32-bit programs and qemu-i386 is missing: install qemu-user (apt-get install qemu-user)";
            else how = how.Trim();
        }
        string plain = Path.Combine(dir, "build", "64", "plain_greet"), preload = Path.Combine(dir, "build", "64", "libumem-preload.so");
        return new(p64 is null ? g64 : null, p32 is null ? g32 : null, run, p64, p32)
        {
            Plain64 = File.Exists(plain) && File.Exists(preload) ? (plain, preload) : null,
        };
    }

    /// <summary>How 32-bit programs run here: "native" or "qemu-i386".</summary>
    internal string How32()
    {
        if (Greet32 is null) return "none";
        var (_, how) = Run("bash", RunScript, "--check", Path.GetDirectoryName(Greet32)!);
        return how.Trim();
    }

    /// <summary>
    /// Where to build the C clients: clients/c of the checkout this umem was built in, or else (an installed
    /// dotnet tool) a copy of the sources the tool ships, in the user's cache: the tool's own directory may be
    /// shared and read-only, and build.sh writes beside itself.
    /// </summary>
    internal static (string? Dir, string? Missing) FindSources()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Umem.slnx")) && Directory.Exists(Path.Combine(d.FullName, "clients", "c")))
                return (Path.Combine(d.FullName, "clients", "c"), null);
        }
        string shipped = Path.Combine(AppContext.BaseDirectory, "clients", "c");
        if (!File.Exists(Path.Combine(shipped, "build.sh"))) return (null, null);
        string? cache = CacheDirectory();
        if (cache is null) return (null, "neither XDG_CACHE_HOME nor HOME is set, so there is no directory to build the C clients in");
        string root = Path.Combine(cache, "umem", typeof(NativeClients).Assembly.GetName().Version?.ToString() ?? "0");
        string dest = Path.Combine(root, "clients", "c");
        try
        {
            CopyTree(shipped, dest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot copy the C client sources to {dest}: {e.Message}");
        }
        return (dest, null);
    }

    private static string? CacheDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return xdg;
        string? home = Environment.GetEnvironmentVariable("HOME");
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output + err.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, e.Message);
        }
    }

    private static string Last(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
}
