using System.Diagnostics;
using System.Text.Json;

namespace Umem.Tests.Bench;

/// <summary>
/// The scale benchmark (bench/Umem.Bench `scale`) in a tiny configuration, through the same real processes as the
/// full run: `umem host` with the scale driver, two worker processes, the probe. Only the structure is checked —
/// every level measured, fds back to their baseline after clients close or are killed, no leaks, no failures —
/// never a time.
/// </summary>
public sealed class ScaleSmokeTests : IDisposable
{
    /// <summary>A failure guard only: the tiny run takes ~6 s on an idle machine.</summary>
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(4);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("umem-scale-test-");

    [Fact]
    public void TinyRunMeasuresEveryLevelAndLeavesNoFdBehind()
    {
        string json = Path.Combine(_dir.FullName, "scale.json");
        // --settle-ms 0: no waiting for the processes to go quiet before a level; only the structure is checked.
        var (exit, output, error) = RunBench("scale", "--connections", "20", "--mappings", "200", "--cookies", "50", "--samples", "100",
            "--few-connections", "10", "--settle-ms", "0", "--json", json);
        Assert.True(exit == 0, $"scale run failed:\n{output}\n{error}");

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var r = doc.RootElement;
        Assert.Empty(r.GetProperty("failures").EnumerateArray());
        Assert.Equal(0, r.GetProperty("hostExitCode").GetInt32());
        Assert.Empty(r.GetProperty("hostLeaks").EnumerateArray());

        Assert.Equal([10, 100, 200], Levels(r, "curve"));
        Assert.Equal([100, 10], Levels(r, "curveDown"));
        Assert.Equal([10, 100, 200], Levels(r, "probeOwnCurve"));
        var comparison = r.GetProperty("connectionComparison").EnumerateArray().ToList();
        Assert.Equal([10, 20], comparison.Select(p => p.GetProperty("connections").GetInt32()));
        Assert.All(comparison, p => Assert.Equal(200, p.GetProperty("mappings").GetInt32()));
        foreach (var point in new[] { "curve", "curveDown", "connectionComparison", "probeOwnCurve" }.SelectMany(c => r.GetProperty(c).EnumerateArray()))
        {
            Assert.Equal(100, point.GetProperty("map").GetProperty("samples").GetInt32());
            Assert.Equal(100, point.GetProperty("mapUnmap").GetProperty("samples").GetInt32());
            Assert.Equal(100, point.GetProperty("floor").GetProperty("samples").GetInt32());
            Assert.True(point.GetProperty("hostHeap").GetInt64() > 0);
        }

        var fds = r.GetProperty("fds");
        int baseline = fds.GetProperty("baseline").GetInt32();
        Assert.Equal(baseline + 20, fds.GetProperty("idleConnections").GetInt32());
        Assert.Equal(baseline + 20, fds.GetProperty("allMappings").GetInt32()); // a mapping holds no host fd of its own
        Assert.Equal(baseline + 10, fds.GetProperty("fewConnectionsLive").GetInt32());
        Assert.Equal(baseline, fds.GetProperty("afterAllClosed").GetInt32());
        Assert.Equal(baseline, fds.GetProperty("afterWorkers").GetInt32());
        Assert.Equal(baseline - 1, fds.GetProperty("afterProbe").GetInt32());

        var memory = r.GetProperty("memory");
        foreach (string stage in new[] { "hostBase", "hostIdleConnections", "hostAllMappings", "hostAfterWorkers" })
        {
            Assert.True(memory.GetProperty(stage).GetProperty("heap").GetProperty("total").GetInt64() > 0, stage);
            Assert.True(memory.GetProperty(stage).GetProperty("os").GetProperty("rssAnon").GetInt64() > 0, stage);
        }
        Assert.NotEmpty(memory.GetProperty("perIdleConnectionByType").EnumerateArray());
        Assert.NotEmpty(memory.GetProperty("perMappingByType").EnumerateArray());
        Assert.Contains("## Scale", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--mappings", "x", "--mappings needs a whole number")]
    [InlineData("--connections", "0", "--connections must be at least 1")]
    [InlineData("--bogus", "1", "unknown option \"--bogus\"")]
    public void BadOptionsAreNamed(string option, string value, string message)
    {
        var (exit, _, error) = RunBench("scale", option, value);
        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    /// <summary>
    /// dotnet Umem.Bench.dll ARGS to the end. The run starts processes of its own (host, workers, floor server); if
    /// it overruns the guard, the whole tree is killed, so nothing is left holding this process's pipes.
    /// </summary>
    private static (int Exit, string Output, string Error) RunBench(params string[] args)
    {
        var psi = new ProcessStartInfo(ChildProcess.DotNet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(BenchDll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_guard))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"dotnet Umem.Bench.dll {string.Join(' ', args)} did not finish within {s_guard.TotalSeconds} s");
        }
        Assert.True(Task.WaitAll([output, error], s_guard), "the benchmark's output did not end");
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>bench/Umem.Bench/bin/CONFIG/TFM/Umem.Bench.dll for this test build's CONFIG and TFM (built as a project reference).</summary>
    private static string BenchDll
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string dll = Path.Combine(TestPaths.RepoRoot, "bench", "Umem.Bench", "bin", output.Parent!.Name, output.Name, "Umem.Bench.dll");
            Assert.True(File.Exists(dll), $"{dll} was not built");
            return dll;
        }
    }

    private static int[] Levels(JsonElement r, string curve) => [.. r.GetProperty(curve).EnumerateArray().Select(p => p.GetProperty("mappings").GetInt32())];

    public void Dispose() => _dir.Delete(recursive: true);
}
