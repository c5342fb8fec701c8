namespace Umem.Bench.Scale;

/// <summary>The programs the scale run starts, all beside this assembly (or, for the programs of tests/, where their build put them).</summary>
internal static class ScalePaths
{
    /// <summary>The dotnet host running this process.</summary>
    public static string DotNet { get; } = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>This assembly, started again in worker mode.</summary>
    public static string BenchAssembly => typeof(ScaleMode).Assembly.Location;

    /// <summary>The `umem` CLI (umem.dll, copied here with its runtimeconfig as a referenced executable).</summary>
    public static string UmemCli => Existing(Path.Combine(AppContext.BaseDirectory, "umem.dll"));

    /// <summary>The test application whose <c>fdserver</c> is the floor (FloorProbe) and whose <c>host</c> serves the map-request benchmarks.</summary>
    public static string TestApp => TestProgram("Umem.TestApp", "Umem.TestApp.dll");

    /// <summary>
    /// A program of tests/ the benchmarks start by path: beside this assembly when copied there, else where the
    /// build-only project reference built it (tests/PROJECT/bin/CONFIGURATION/net10.0/, runtimeconfig and all).
    /// BenchmarkDotNet runs from a generated project, whose output has neither, so the repository's is the rule.
    /// </summary>
    public static string TestProgram(string project, string file)
    {
        string beside = Path.Combine(AppContext.BaseDirectory, file);
        if (File.Exists(beside)) return beside;
        string built = Path.Combine(BenchPeers.RepositoryRoot, "tests", project, "bin", Configuration, "net10.0", file);
        return File.Exists(built)
            ? built
            : throw new FileNotFoundException($"no {file} at {beside} or {built}: dotnet build -c {Configuration} bench/Umem.Bench", built);
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>The scale driver module (drivers/scale/, see Umem.Bench.csproj).</summary>
    public static string ScaleDriver => Existing(Path.Combine(AppContext.BaseDirectory, "drivers", "scale", "Umem.Bench.ScaleDriver.dll"));

    /// <summary>bench/BenchmarkDotNet.Artifacts/scale.json in the repository (else beside this assembly).</summary>
    public static string DefaultJson
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Umem.slnx")))
                    return Path.Combine(dir.FullName, "bench", "BenchmarkDotNet.Artifacts", "scale.json");
            }
            return Path.Combine(AppContext.BaseDirectory, "scale.json");
        }
    }

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build bench/Umem.Bench (dotnet build -c Release bench/Umem.Bench)", path);
}
