using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Umem.Host;
using Umem.Host.Hosting;
using Umem.Kernel.Modules;
using Umem.TestDrivers;

namespace Umem.TestApp;

/// <summary>
/// A real Umem (kernel, the test device driver, device host) in this process, for tests and benchmarks that want
/// the host apart from the client.
/// </summary>
internal static class TestHostCommand
{
    internal static int Run(string directory, bool noEvents)
    {
        var system = UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = directory } });
        Load(system, noEvents);
        Console.WriteLine($"ready {Environment.ProcessId} {system.NodePath(TestDeviceDriver.NodeName)}");
        Console.Out.Flush();
        string? line;
        while ((line = Console.ReadLine()) is not null && line != "quit")
        {
        }
        system.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine("bye");
        return 0;
    }

    internal static async Task<int> ServeAsync(string directory)
    {
        var builder = UmemHostingExtensions.CreateUmemHostBuilder();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddUmemHost(o => o.System.Host.DeviceDirectory = directory);
        using var app = builder.Build();
        await app.StartAsync().ConfigureAwait(false);
        var system = app.Services.GetRequiredService<UmemHostedService>().System!;
        Load(system, noEvents: false);
        Console.WriteLine($"ready {Environment.ProcessId} {system.NodePath(TestDeviceDriver.NodeName)}");
        Console.Out.Flush();
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        Console.WriteLine("stopped");
        return 0;
    }

    /// <summary>modload of the test device (2 read-write pages, 2 read-only), its node 0666.</summary>
    private static void Load(UmemSystem system, bool noEvents) =>
        system.Kernel.ModLoad("testdev", () => new TestDeviceDriver(), new ModuleOptions
        {
            Properties = new Dictionary<string, string> { ["events"] = noEvents ? "0" : "1" },
        });
}
