using System.Text.RegularExpressions;

namespace Umem.Tests.Demo;

/// <summary>Ctrl+C on `umem demo` stops its applications and removes its directory, and says so.</summary>
public sealed partial class DemoInterruptTests
{
    [Fact]
    public void SigintStopsTheApplicationsAndRemovesTheDirectory()
    {
        using var demo = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "demo"]);
        string serving = demo.ReadUntil(l => l.Contains("serving", StringComparison.Ordinal));
        string node = NodePath().Match(serving).Value;
        string dir = Path.GetDirectoryName(Path.GetDirectoryName(node))!; // /tmp/umem-demo-XXXX
        Assert.True(Directory.Exists(dir), serving);

        // Interrupt as the applications start (they take the node's path as an argument): the demo is then
        // starting them or waiting for their greetings, which takes far longer than this line to arrive.
        demo.Signal("INT");
        Assert.Equal(130, demo.WaitForExit());
        Assert.Contains("interrupted", demo.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir), $"{dir} was left behind");
        Assert.Empty(ProcessesNaming(node));
    }

    /// <summary>Live processes whose command line names <paramref name="text"/>.</summary>
    private static List<int> ProcessesNaming(string text)
    {
        var found = new List<int>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid)) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ');
                string stat = File.ReadAllText(Path.Combine(d, "stat"));
                bool zombie = stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
                if (!zombie && cmdline.Contains(text, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        return found;
    }

    [GeneratedRegex(@"/\S*/dev/xx0")]
    private static partial Regex NodePath();
}
