using System.Diagnostics;

namespace Umem.Tests.Cli;

/// <summary><c>umem host</c> options that are refused before anything starts, run as a real child process.</summary>
public sealed class HostCommandTests
{
    [Theory]
    [InlineData("-1")]
    [InlineData("100001")]
    public async Task AnOutOfRangeLingerSpinIsRefusedByName(string value)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { TestPaths.CliDll, "host", "--dev-dir", Path.Combine(Path.GetTempPath(), "umem-never"), "--linger-spin-us", value })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "umem host did not exit");
        _ = await stdout;
        Assert.Equal(2, p.ExitCode);
        Assert.Contains($"--linger-spin-us: '{value}' is not a whole number from 0 to 100000", stderr, StringComparison.Ordinal);
    }
}
