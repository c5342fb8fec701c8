using System.Diagnostics;
using Umem.Platform;

namespace Umem.Tests.Cli;

/// <summary><c>umem alloc</c>, run as a real child process.</summary>
public sealed class AllocCommandTests
{
    private static (int ExitCode, string Stdout, string Stderr) Umem(params string[] args)
    {
        string dll = TestPaths.CliDll;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "umem did not exit");
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void AllocRoundsToPagesShowsTheMemoryAndFreesIt()
    {
        var (code, stdout, stderr) = Umem("alloc", "--size", (SystemPage.Size + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, stderr);
        Assert.Contains($"{2 * SystemPage.Size} bytes (2 pages of {SystemPage.Size})", stdout, StringComparison.Ordinal);
        Assert.Contains("KmemNonPageable", stdout, StringComparison.Ordinal);
        Assert.Matches(@"page-aligned\s*│\s*True", stdout);
        Assert.Matches(@"zero-filled\s*│\s*True", stdout);
        Assert.Contains("freed; live bytes now 0", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void PageableNoSleepAllocation()
    {
        var (code, stdout, stderr) = Umem("alloc", "-s", "1", "--pageable", "--nosleep");
        Assert.True(code == 0, stderr);
        Assert.Contains("KmemPageable", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 2, "--size must be positive")]
    [InlineData("-5", 2, "--size: '-5' is not a number of bytes")]
    [InlineData("9223372036854775807", 2, "too large")]
    [InlineData("99999999999", 1, "ENOMEM")]
    public void BadSizesGetAClearError(string size, int exitCode, string message)
    {
        var (code, _, stderr) = Umem("alloc", "--size", size);
        Assert.Equal(exitCode, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // a message, not a stack trace
    }
}
