using System.Globalization;
using Umem.Host;

namespace Umem.Tests.Samples;

/// <summary>
/// A real Umem in the test process (<see cref="UmemSystem"/> with its device directory in a fresh temporary
/// directory) and the sample applications as child processes (<c>dotnet samples/NAME/NAME.dll</c> from the test
/// output, where Umem.Tests.csproj copies them).
/// </summary>
internal sealed class SampleSystem : IAsyncDisposable
{
    private readonly string _dir;

    private SampleSystem(string dir, UmemSystem system)
    {
        _dir = dir;
        System = system;
    }

    internal UmemSystem System { get; }

    /// <summary>The locked-memory limit of the projects root and everyone else fall into (1 GiB); unlimited ones are not charged.</summary>
    internal const ulong LockedMemoryLimit = 1UL << 30;

    /// <summary>Starts a system and loads the driver module at <paramref name="driverPath"/>.</summary>
    internal static SampleSystem Start(string driverPath)
    {
        string dir = Directory.CreateTempSubdirectory("umem-samples-").FullName;
        string projects = Path.Combine(dir, "project");
        File.WriteAllText(projects,
            $"user.root:1::::project.max-locked-memory=(privileged,{LockedMemoryLimit},deny)\n" +
            $"default:3::::project.max-locked-memory=(privileged,{LockedMemoryLimit},deny)\n");
        var system = UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = Path.Combine(dir, "dev") }, ProjectFile = projects });
        try
        {
            system.Load(driverPath);
        }
        catch
        {
            system.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Directory.Delete(dir, recursive: true);
            throw;
        }
        return new SampleSystem(dir, system);
    }

    /// <summary>Runs sample <paramref name="name"/> (e.g. Umem.Samples.RingWriter) with <paramref name="args"/>.</summary>
    internal static ChildProcess Run(string name, params string[] args) =>
        ChildProcess.Start(ChildProcess.DotNet, [SamplePath(name), .. args]);

    internal static string SamplePath(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "samples", name, name + ".dll");
        Assert.True(File.Exists(path), $"sample {path} is missing: the test project copies it there after building it");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync().ConfigureAwait(false);
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>The samples' "key=value key=value" report lines.</summary>
internal static class Report
{
    internal static string Field(string line, string key)
    {
        foreach (string part in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal)) return part[(key.Length + 1)..];
        }
        Assert.Fail($"no {key}= in '{line}'");
        return "";
    }

    internal static long Long(string line, string key) => long.Parse(Field(line, key), CultureInfo.InvariantCulture);

    internal static ulong ULong(string line, string key) => ulong.Parse(Field(line, key), CultureInfo.InvariantCulture);
}
