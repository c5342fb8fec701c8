using System.Text;
using System.Text.RegularExpressions;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// <c>make install</c> of the C client into a temporary prefix, and an application (clients/c/tests/consumer) built
/// against that installed copy the way users build one: with pkg-config only, and with CMake's find_package(umem);
/// linked to libumem.so and to libumem.a, 64- and 32-bit; then run against the real device host.
/// </summary>
public sealed partial class CClientBuildTests
{
    private static readonly Lazy<string> s_version = new(() =>
    {
        var r = ProcessRun.Run("make", ["-s", "-C", CDir, "version"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Trim();
    });

    public static TheoryData<string, string> ModelsAndLinkages => new()
    {
        { "64", "shared" }, { "64", "static" }, { "32", "shared" }, { "32", "static" },
    };

    [Theory]
    [InlineData("64")]
    [InlineData("32")]
    public void InstallPutsHeadersLibrariesAndPackageFilesInThePrefix(string model)
    {
        _ = Runner.For(model);   // skips where there is no 32-bit build
        using var prefix = InstallPrefix.Create(model);
        string lib = prefix.LibDir(model), major = s_version.Value.Split('.')[0];

        Assert.True(File.Exists(Path.Combine(prefix.Path, "include", "umem.h")));
        Assert.True(File.Exists(Path.Combine(prefix.Path, "include", "umem_sync.h")));
        string versionHeader = File.ReadAllText(Path.Combine(prefix.Path, "include", "umem_version.h"));
        Assert.Contains($"#define UMEM_VERSION_STRING \"{s_version.Value}\"", versionHeader, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(lib, "libumem.a")));
        Assert.Equal($"libumem.so.{major}", new FileInfo(Path.Combine(lib, "libumem.so")).LinkTarget);
        Assert.Equal($"libumem.so.{s_version.Value}", new FileInfo(Path.Combine(lib, $"libumem.so.{major}")).LinkTarget);
        string so = Path.Combine(lib, $"libumem.so.{s_version.Value}");
        Assert.Contains($"Library soname: [libumem.so.{major}]", Ok(ProcessRun.Run("readelf", ["-d", so])), StringComparison.Ordinal);
        Assert.Contains(model == "64" ? "ELF64" : "ELF32", Ok(ProcessRun.Run("readelf", ["-h", so])), StringComparison.Ordinal);

        // Only the API of umem.h and umem_sync.h is exported; the wire layer and every helper stay hidden.
        var exported = Ok(ProcessRun.Run("nm", ["-D", "--defined-only", so])).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Where(f => f.Length == 3 && f[1] == "T").Select(f => f[2]).Order();
        Assert.Equal(PublicApi().Order(), exported);

        Assert.Equal(s_version.Value, Ok(prefix.Shell("pkg-config --modversion umem", model)).Trim());
        Assert.Equal(lib, Ok(prefix.Shell("pkg-config --variable=libdir umem", model)).Trim());
        Assert.Contains($"set(PACKAGE_VERSION \"{s_version.Value}\")", File.ReadAllText(Path.Combine(lib, "cmake", "umem", "umemConfigVersion.cmake")), StringComparison.Ordinal);
        Assert.Contains("add_library(umem::umem SHARED IMPORTED)", File.ReadAllText(Path.Combine(lib, "cmake", "umem", "umemConfig.cmake")), StringComparison.Ordinal);
    }

    [Fact]
    public void InstallStagesUnderDestdirWithThePrefixInsideTheFiles()
    {
        _ = s_build.Value;
        using var stage = InstallPrefix.Create("64", "DESTDIR={0}", "PREFIX=/opt/umem");
        string staged = Path.Combine(stage.Path, "opt", "umem");
        Assert.True(File.Exists(Path.Combine(staged, "include", "umem.h")));
        Assert.True(File.Exists(Path.Combine(staged, "lib", "libumem.a")));
        string pc = File.ReadAllText(Path.Combine(staged, "lib", "pkgconfig", "umem.pc"));
        Assert.Contains("prefix=/opt/umem\n", pc, StringComparison.Ordinal);
        Assert.Contains("libdir=/opt/umem/lib\n", pc, StringComparison.Ordinal);
        Assert.Contains("\"/opt/umem/lib/libumem.a\"", File.ReadAllText(Path.Combine(staged, "lib", "cmake", "umem", "umemConfig.cmake")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ModelsAndLinkages))]
    public async Task AnApplicationBuiltWithPkgConfigOnlyRunsAgainstARealHost(string model, string linkage)
    {
        var runner = Runner.For(model);
        using var prefix = InstallPrefix.Create(model);
        string app = Path.Combine(prefix.Path, "consumer");
        string pkg = linkage == "static" ? "-static $(pkg-config --static --cflags --libs umem)" : "$(pkg-config --cflags --libs umem)";
        Ok(prefix.Shell($"gcc {string.Join(' ', runner.CFlags)} -O2 -Wall -Wextra -Werror -std=c11 -o {app} {Consumer} {pkg}", model));

        await using var host = TestHost.Start();
        RunConsumer(runner, prefix, app, model, linkage, host);
    }

    [Theory]
    [MemberData(nameof(ModelsAndLinkages))]
    public async Task AnApplicationBuiltWithCMakeFindPackageRunsAgainstARealHost(string model, string linkage)
    {
        if (!OnPath("cmake"))
            Assert.Skip("cmake is not installed (apt-get install cmake)");
        var runner = Runner.For(model);
        // Both models in one prefix, as on a multilib system: each CMake project must take the one of its pointer size.
        using var prefix = InstallPrefix.Create("64");
        prefix.Install("32");
        string build = Path.Combine(prefix.Path, "cmake-build");
        string configure = $"CFLAGS='{string.Join(' ', runner.CFlags)}' cmake -S {Path.GetDirectoryName(Consumer)} -B {build} -DUMEM_VERSION_WANTED={s_version.Value}";
        if (model == "64")
        {
            Assert.Contains($"-- umem {s_version.Value} from {prefix.LibDir("64")}/cmake/umem", Ok(prefix.Shell($"{configure} -DCMAKE_PREFIX_PATH={prefix.Path}")), StringComparison.Ordinal);
        }
        else
        {
            // Debian's CMake does not search lib32: the prefix alone finds the 64-bit package, which refuses a 32-bit project.
            var refused = prefix.Shell($"{configure} -DCMAKE_PREFIX_PATH={prefix.Path}");
            Assert.True(refused.ExitCode != 0, refused.ToString());
            Assert.Contains($"version: {s_version.Value} (64-bit)", refused.Stderr, StringComparison.Ordinal);
            Directory.Delete(build, recursive: true);
            Assert.Contains($"-- umem {s_version.Value} from {prefix.LibDir("32")}/cmake/umem", Ok(prefix.Shell($"{configure} -Dumem_DIR={prefix.LibDir("32")}/cmake/umem")), StringComparison.Ordinal);
        }
        Ok(prefix.Shell($"cmake --build {build}"));

        await using var host = TestHost.Start();
        RunConsumer(runner, prefix, Path.Combine(build, $"consumer_{linkage}"), model, linkage, host);
    }

    /// <summary>
    /// Runs the consumer against the host and checks what it did: linked shared, it needs libumem.so.MAJOR, cannot start
    /// without the prefix on the library path (no rpath was asked for) and loads it from there; linked static, it needs
    /// no libumem at all. Either way the page it wrote is the driver's memory.
    /// </summary>
    private static void RunConsumer(Runner runner, InstallPrefix prefix, string app, string model, string linkage, TestHost host)
    {
        string major = s_version.Value.Split('.')[0];
        string dynamic = Ok(ProcessRun.Run("readelf", ["-d", app]));
        string libraryPath = $"LD_LIBRARY_PATH={prefix.LibDir(model)}";
        if (linkage == "shared")
        {
            Assert.Contains($"Shared library: [libumem.so.{major}]", dynamic, StringComparison.Ordinal);
            if (!dynamic.Contains("RUNPATH", StringComparison.Ordinal) && !dynamic.Contains("RPATH", StringComparison.Ordinal))
            {
                var missing = ProcessRun.Run("env", ["LD_LIBRARY_PATH=", .. runner.Foreign, app, host.Path]);
                Assert.True(missing.ExitCode == 127 && missing.Stderr.Contains($"libumem.so.{major}", StringComparison.Ordinal), missing.ToString());
            }
        }
        else
        {
            Assert.DoesNotContain("libumem", dynamic, StringComparison.Ordinal);
        }

        using var run = ProcessRun.Start("env", [libraryPath, .. runner.Foreign, app, host.Path]);   // env and qemu-i386 exec: one pid
        var r = run.Finish();
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n');
        string version = lines[0];
        Assert.Equal(s_version.Value, Samples.Report.Field(version, "version"));
        Assert.Equal(model == "64" ? "64" : "32", Samples.Report.Field(version, "bits"));
        string library = Samples.Report.Field(version, "library");
        if (linkage == "shared")
            Assert.Equal(Path.Combine(prefix.LibDir(model), $"libumem.so.{major}"), library);
        else
            Assert.DoesNotContain("libumem", library, StringComparison.Ordinal);

        // The page the application wrote is the device's own memory: the driver sees the text, and echoes it.
        string wrote = Samples.Report.Field(lines[1], "wrote");
        Assert.Equal($"consumer-{run.Pid}-{version.Split("bits=")[1]}", wrote);
        Assert.Equal(wrote, Samples.Report.Field(lines[1], "echo"));
        Assert.Equal(wrote, Encoding.ASCII.GetString(host.Driver.Kernel(0, wrote.Length)));
    }

    private static string Consumer => Path.Combine(CDir, "tests", "consumer", "consumer.c");

    /// <summary>The functions umem.h and umem_sync.h declare with UMEM_API.</summary>
    private static IEnumerable<string> PublicApi() =>
        new[] { "umem.h", "umem_sync.h" }.SelectMany(h => ApiDeclaration().Matches(File.ReadAllText(Path.Combine(CDir, h))).Select(m => m.Groups[1].Value));

    [GeneratedRegex(@"UMEM_API [^;(]*?\b(umem_\w+)\(")]
    private static partial Regex ApiDeclaration();

    private static string Ok(ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    /// <summary>A temporary directory holding <c>make install</c>s; deleted on dispose.</summary>
    private sealed class InstallPrefix : IDisposable
    {
        private InstallPrefix(string path) => Path = path;

        public string Path { get; }

        /// <summary>Installs <paramref name="model"/> with <c>PREFIX=</c> the new directory, or with <paramref name="variables"/> ({0}: the directory).</summary>
        public static InstallPrefix Create(string model, params string[] variables)
        {
            var prefix = new InstallPrefix(Directory.CreateTempSubdirectory("umem-cinstall-").FullName);
            try
            {
                prefix.Install(model, variables);
                return prefix;
            }
            catch
            {
                prefix.Dispose();
                throw;
            }
        }

        public void Install(string model, params string[] variables)
        {
            _ = s_build.Value;
            string[] vars = variables.Length == 0 ? [$"PREFIX={Path}"] : [.. variables.Select(v => string.Format(System.Globalization.CultureInfo.InvariantCulture, v, Path))];
            Ok(ProcessRun.Run("make", ["-s", "-C", CDir, "install", $"MODEL={model}", .. vars]));
        }

        public string LibDir(string model) => System.IO.Path.Combine(Path, model == "64" ? "lib" : "lib32");

        /// <summary>A shell command with pkg-config looking into this prefix, for the libraries of <paramref name="model"/>.</summary>
        public ProcessResult Shell(string command, string model = "64") =>
            ProcessRun.Run("env", [$"PKG_CONFIG_PATH={LibDir(model)}/pkgconfig", "bash", "-c", command]);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
