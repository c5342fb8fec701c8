using Umem.Host;
using Umem.TestDrivers;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Umem.Tests.Host;

/// <summary>
/// A real Umem in this process: a kernel with the <see cref="TestDeviceDriver"/> module loaded, its node "test0"
/// served by the device host in a private directory. The host's tests run the path users run.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    internal const UnixFileMode Mode0666 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    private TestHost(string directory, UmemSystem system, TestDeviceDriver driver)
    {
        Directory = directory;
        Umemd = system;
        Driver = driver;
        Path = system.NodePath(TestDeviceDriver.NodeName);
    }

    internal string Directory { get; }

    /// <summary>The running system: kernel, allocator, device host.</summary>
    internal UmemSystem Umemd { get; }

    /// <summary>The driver: its memory, the opens and unmaps it saw.</summary>
    internal TestDeviceDriver Driver { get; }

    internal DeviceHost Host => Umemd.Devices;

    internal string Path { get; }

    /// <summary>Live mappings of the node, as the kernel counts them.</summary>
    internal int LiveMappings => Umemd.Kernel.GetMappings().Count;

    /// <summary>Buffers the connected clients have registered.</summary>
    internal int LiveBuffers => Host.Sessions.Sum(s => s.Process.Buffers.Count);

    /// <summary>A host over a device of the given per-page maxprots (default: 2 read-write, 2 read-only pages).</summary>
    internal static TestHost Start(int[]? maxProt = null, UnixFileMode mode = Mode0666, uint owner = 0, uint group = 0, DeviceHostOptions? options = null,
        IReadOnlyDictionary<string, string>? properties = null)
    {
        string dir = NewDirectory();
        options ??= new DeviceHostOptions();
        options.DeviceDirectory = System.IO.Path.Combine(dir, "dev");
        var system = UmemSystem.Start(new UmemSystemOptions { Host = options });
        var driver = new TestDeviceDriver();
        try
        {
            system.Kernel.ModLoad("testdev", () => driver, new Umem.Kernel.Modules.ModuleOptions
            {
                Properties = new Dictionary<string, string>(properties ?? new Dictionary<string, string>())
                {
                    ["maxprot"] = string.Join(',', maxProt ?? [3, 3, 1, 1]),
                    ["mode"] = Convert.ToString((int)mode, 8),
                    ["uid"] = owner.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["gid"] = group.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            });
        }
        catch
        {
            system.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return new TestHost(dir, system, driver);
    }

    /// <summary>A fresh directory every uid can enter (0755), for sockets other users must reach.</summary>
    internal static string NewDirectory()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("umem-test-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        return dir;
    }

    public async ValueTask DisposeAsync()
    {
        await Umemd.DisposeAsync();
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
