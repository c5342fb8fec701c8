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
    internal static int Run(string directory, bool noEvents, int pages = 0, TimeSpan? sendTimeout = null)
    {
        var options = new UmemSystemOptions { Host = { DeviceDirectory = directory } };
        if (sendTimeout is { } t) options.Host.SendTimeout = t;
        var system = UmemSystem.Start(options);
        Load(system, noEvents, pages);
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
        Load(system, noEvents: false, pages: 0);
        Console.WriteLine($"ready {Environment.ProcessId} {system.NodePath(TestDeviceDriver.NodeName)}");
        Console.Out.Flush();
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        Console.WriteLine("stopped");
        return 0;
    }

    /// <summary>
    /// modload of the test device, its node 0666: 2 read-write pages and 2 read-only ones, or <paramref name="pages"/>
    /// read-write pages (one region, one memfd per page).
    /// </summary>
    private static void Load(UmemSystem system, bool noEvents, int pages)
    {
        var properties = new Dictionary<string, string> { ["events"] = noEvents ? "0" : "1" };
        if (pages > 0) properties["maxprot"] = string.Join(',', Enumerable.Repeat(3, pages));
        system.Kernel.ModLoad("testdev", () => new TestDeviceDriver(), new ModuleOptions { Properties = properties });
    }
}
