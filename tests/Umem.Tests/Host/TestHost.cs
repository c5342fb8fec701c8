using Umem.Host;
using Umem.TestApp;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Umem.Tests.Host;

/// <summary>A device host in this process serving a <see cref="TestDeviceService"/> as node "test0" in a private directory.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    internal const UnixFileMode Mode0666 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    private TestHost(string directory, TestDeviceService service, DeviceHost host, string path)
    {
        Directory = directory;
        Service = service;
        Host = host;
        Path = path;
    }

    internal string Directory { get; }

    internal TestDeviceService Service { get; }

    internal DeviceHost Host { get; }

    internal string Path { get; }

    /// <summary>A host over a device of the given per-page maxprots (default: 2 read-write, 2 read-only pages).</summary>
    internal static TestHost Start(int[]? maxProt = null, UnixFileMode mode = Mode0666, uint owner = 0, uint group = 0, DeviceHostOptions? options = null)
    {
        string dir = NewDirectory();
        var service = maxProt is null ? TestDeviceService.Default() : new TestDeviceService(maxProt);
        options ??= new DeviceHostOptions();
        options.DeviceDirectory = System.IO.Path.Combine(dir, "dev");
        var host = new DeviceHost(service, options);
        string path = host.Publish(new MinorNode("test0", owner, group, mode));
        return new TestHost(dir, service, host, path);
    }

    /// <summary>A fresh directory every uid can enter (0755), for sockets other users must reach.</summary>
    internal static string NewDirectory()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("umem-test-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        return dir;
    }

    /// <summary>Waits for a condition the host reaches asynchronously; the timeout only guards against a hang.</summary>
    internal static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Service.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
