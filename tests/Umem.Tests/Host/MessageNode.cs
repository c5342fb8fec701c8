using Umem.Host;
using Umem.TestDrivers;

namespace Umem.Tests.Host;

/// <summary>A real host serving one MessageDriver node ("msg0") in a fresh directory.</summary>
internal sealed class MessageNode : IAsyncDisposable
{
    private readonly UmemSystem _system;
    private readonly string _dir;

    private MessageNode(UmemSystem system, string dir, MessageDriver driver)
    {
        _system = system;
        _dir = dir;
        Driver = driver;
        Path = system.NodePath(MessageDriver.NodeName);
    }

    public MessageDriver Driver { get; }

    public string Path { get; }

    public static Task<MessageNode> StartAsync(bool readWaits = false)
    {
        string dir = TestHost.NewDirectory();
        var system = UmemSystem.Start(new UmemSystemOptions { Host = new DeviceHostOptions { DeviceDirectory = System.IO.Path.Combine(dir, "dev") } });
        var driver = new MessageDriver { ReadWaits = readWaits };
        system.Kernel.ModLoad("msg", () => driver);
        return Task.FromResult(new MessageNode(system, dir, driver));
    }

    /// <summary>No armed poll and no connection is left once the clients are gone.</summary>
    public void AssertNothingLeft() =>
        Eventually.WaitUntil(() => Driver.PollHead.SubscriberCount == 0 && _system.Devices.ConnectionCount == 0,
            "the host to hold no armed poll and no connection");

    public async ValueTask DisposeAsync()
    {
        await _system.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
