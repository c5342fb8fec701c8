namespace Umem.Tests.Samples;

/// <summary>
/// The C# samples' exit status (docs/operating.md, "Exit status"): a usage mistake is 2 with a line naming the
/// option, a node that does not exist is 1 with a line naming ENOENT; one line each, never a stack trace.
/// </summary>
public sealed class SampleUsageTests
{
    /// <summary>Sample, its arguments ({node} for a node path), and what the usage error line must name.</summary>
    public static TheoryData<string, string[], string> Mistakes => new()
    {
        { "Umem.Samples.RingWriter", ["{node}", "--messages", "many"], "--messages: 'many' is not a whole number" },
        { "Umem.Samples.RingWriter", ["{node}", "--messages", "5000", "--max-payload", "1000"], "--messages 5000 with --max-payload 1000: more than the ring's" },
        { "Umem.Samples.RingWriter", ["--wiat"], "unknown option '--wiat'" },
        { "Umem.Samples.RingReader", ["{node}", "--try-wrte"], "'--try-wrte'" },
        { "Umem.Samples.RingReader", [], "NODE is missing" },
        { "Umem.Samples.LockDemo", ["{node}", "--locks", "0"], "--locks: '0' is not a whole number from 1 to" },
        { "Umem.Samples.LockDemo", ["{node}", "--length", "1M"], "--length: '1M' is not a whole number" },
    };

    public static TheoryData<string> Samples => ["Umem.Samples.RingWriter", "Umem.Samples.RingReader", "Umem.Samples.LockDemo"];

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void AUsageMistakeExits2NamingTheOption(string sample, string[] args, string named)
    {
        using var app = SampleSystem.Run(sample, [.. args.Select(a => a == "{node}" ? MissingNode() : a)]);
        Assert.Equal(2, app.WaitForExit());
        string stderr = app.StandardError;
        Assert.Contains(named, stderr, StringComparison.Ordinal);
        Assert.Contains($"see '{sample} --help'", stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stderr);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void AMissingNodeExits1NamingENOENT(string sample)
    {
        string node = MissingNode();
        using var app = SampleSystem.Run(sample, node);
        Assert.Equal(1, app.WaitForExit());
        string line = Assert.Single(app.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(node, line, StringComparison.Ordinal);
        Assert.Contains("ENOENT", line, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void HelpDescribesTheNodeAndExits0(string sample)
    {
        using var app = SampleSystem.Run(sample, "--help");
        var lines = app.ReadToEnd();
        Assert.Equal(0, app.WaitForExit());
        Assert.Contains(lines, l => l.Contains($"{sample} <node> [options]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("<node>", StringComparison.Ordinal));
    }

    internal static string MissingNode() => Path.Combine(Path.GetTempPath(), $"umem-missing-{Guid.NewGuid():N}", "ring0");

    internal static void AssertNoStackTrace(string stderr) =>
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
}
