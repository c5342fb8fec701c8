using System.Diagnostics;

namespace Umem.Cli.Demo;

/// <summary>The C client's greeter, built with the project's own script (clients/c/build.sh) in 64 and 32 bits.</summary>
internal sealed record NativeClients(string? Greet64, string? Greet32, string RunScript, string? Problem64, string? Problem32)
{
    internal static NativeClients Build(string? repoRoot)
    {
        if (repoRoot is null)
            return new(null, null, "", "the C client sources (clients/c) are not beside this build of umem", "the C client sources are not here");
        string dir = Path.Combine(repoRoot, "clients", "c");
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
        return new(p64 is null ? g64 : null, p32 is null ? g32 : null, run, p64, p32);
    }

    /// <summary>How 32-bit programs run here: "native" or "qemu-i386".</summary>
    internal string How32()
    {
        if (Greet32 is null) return "none";
        var (_, how) = Run("bash", RunScript, "--check", Path.GetDirectoryName(Greet32)!);
        return how.Trim();
    }

    internal static string? FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Umem.slnx")) && Directory.Exists(Path.Combine(d.FullName, "clients", "c")))
                return d.FullName;
        }
        return null;
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
