namespace Umem.Tests;

/// <summary>Where the repository and the built `umem` are, seen from the test output folder.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding Umem.slnx.</summary>
    internal static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Umem.slnx")))
                    return dir.FullName;
            throw new InvalidOperationException($"no Umem.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>src/Umem.Cli/bin/CONFIG/TFM/umem.dll for this test build's CONFIG and TFM.</summary>
    internal static string CliDll
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string dll = Path.Combine(RepoRoot, "src", "Umem.Cli", "bin", output.Parent!.Name, output.Name, "umem.dll");
            Assert.True(File.Exists(dll), $"{dll} was not built");
            return dll;
        }
    }
}
