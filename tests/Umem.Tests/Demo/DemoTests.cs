using System.Diagnostics;
using System.Text.Json;
using Umem.Tests.CClient;

namespace Umem.Tests.Demo;

/// <summary>
/// The README's first command, `umem demo`, run as a real child process: its checks are asserted, not its wording.
/// </summary>
[Collection(CBuild.Collection)]
public sealed class DemoTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(180); // a hang guard, not a timing assertion

    [Fact]
    public void DemoRunsAndEveryCheckHolds()
    {
        string report = Path.Combine(Directory.CreateTempSubdirectory("umem-demo-test").FullName, "checks.json");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliDll, "demo", "--report", report }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(s_guard), "umem demo did not finish");

        var checks = JsonSerializer.Deserialize<List<Check>>(File.ReadAllText(report))!;
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}\n{stdout}\n{stderr.Result}"));
        Assert.Equal(0, p.ExitCode);
        string[] names = [.. checks.Select(c => c.Name)];
        Assert.Contains(names, n => n.StartsWith("csharp-1 ", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("csharp-2 ", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("c64 ", StringComparison.Ordinal));
        Assert.Contains("host saw plain64 as LP64 and gave it page 0", names); // the unmodified program, through the preload
        Assert.Contains("64-bit applications share one page, and only with each other", names);
        Assert.Contains("xx unloaded with no leaks", names);
        if (File.Exists(Path.Combine(RepoRoot, "clients", "c", "build", "32", "umem_greet")))
        {
            Assert.Contains(names, n => n.StartsWith("c32-1 ", StringComparison.Ordinal));
            Assert.Contains("32-bit applications share one page, and only with each other", names);
            Assert.Contains("host saw c32-2 as ILP32 and gave it page 1", names);
        }
    }

    private sealed record Check(string Name, bool Passed, string Detail);

    private static string RepoRoot => TestPaths.RepoRoot;

    private static string CliDll => TestPaths.CliDll;
}
