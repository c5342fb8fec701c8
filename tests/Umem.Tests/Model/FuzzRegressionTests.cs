using Umem.Fuzz;

namespace Umem.Tests.Model;

/// <summary>
/// The fuzz targets (tests/Umem.Fuzz, docs/fuzzing.md) on their seed inputs and on every input kept in
/// tests/Umem.Fuzz/regressions/TARGET/: a crash a fuzz run finds is saved there and stays a test.
/// </summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("protocol")]
    [InlineData("project")]
    [InlineData("zones")]
    public void ParsersAndDecodersHoldOnEveryKeptInput(string target)
    {
        Action<byte[]> run = target switch
        {
            "protocol" => d => ProtocolTarget.Run(d),
            "project" => d => ConfigFileTargets.Project(d),
            _ => d => ConfigFileTargets.Zones(d),
        };
        foreach (var (name, input) in Inputs(target))
        {
            var e = Record.Exception(() => run(input));
            Assert.True(e is null, $"{target} {name}: {e}");
        }
    }

    [Fact]
    public async Task HostAnswersOrClosesAndReleasesEverythingOnEveryKeptInput()
    {
        await using var host = HostTarget.Start();
        foreach (var (name, input) in Inputs("host"))
        {
            var e = Record.Exception(() => host.Run(input));
            Assert.True(e is null, $"host {name}: {e}");
        }
    }

    private static IEnumerable<(string Name, byte[] Input)> Inputs(string target)
    {
        foreach (var (seed, i) in Seeds.For(target).Select((s, i) => (s, i))) yield return ($"seed {i}", seed);
        string dir = Path.Combine(TestPaths.RepoRoot, "tests", "Umem.Fuzz", "regressions", target);
        foreach (string file in Directory.GetFiles(dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            yield return (Path.GetFileName(file), File.ReadAllBytes(file));
    }
}
