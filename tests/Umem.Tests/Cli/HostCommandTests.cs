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
        var (exit, stderr) = await RunHost("--linger-spin-us", value);
        Assert.Equal(2, exit);
        Assert.Contains($"--linger-spin-us: '{value}' is not a whole number from 0 to 100000", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxOpensPerUids=4", "no host setting is called \"MaxOpensPerUids\"")]
    [InlineData("IdleTimeout=soon", "IdleTimeout: \"soon\" is not")]
    [InlineData("FdReserve", "--set wants NAME=VALUE, not \"FdReserve\"")]
    public async Task AHostSettingThatIsNotOneIsRefusedByName(string setting, string message)
    {
        var (exit, stderr) = await RunHost("--set", setting);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stderr)> RunHost(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { TestPaths.CliDll, "host", "--dev-dir", Path.Combine(Path.GetTempPath(), "umem-never") }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "umem host did not exit");
        _ = await stdout;
        return (p.ExitCode, stderr);
    }
}
