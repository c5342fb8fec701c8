using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Umem.Host;
using Umem.Host.Hosting;

namespace Umem.TestApp;

/// <summary>A device host serving the test device in this process (for tests and benchmarks that want the host apart).</summary>
internal static class HostCommand
{
    private const UnixFileMode Mode0666 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    internal static int Run(string directory, bool noEvents, int pages = 0)
    {
        using var service = pages > 0
            ? new TestDeviceService(Enumerable.Repeat(3, pages).ToArray(), recordEvents: !noEvents)
            : TestDeviceService.Default(recordEvents: !noEvents);
        var host = new DeviceHost(service, new DeviceHostOptions { DeviceDirectory = directory });
        string path = host.Publish(new MinorNode("test0", 0, 0, Mode0666));
        Console.WriteLine($"ready {Environment.ProcessId} {path}");
        Console.Out.Flush();
        string? line;
        while ((line = Console.ReadLine()) is not null && line != "quit")
        {
        }
        host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine("bye");
        return 0;
    }

    internal static async Task<int> ServeAsync(string directory)
    {
        var builder = UmemHostingExtensions.CreateUmemHostBuilder();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton<IDeviceService>(_ => TestDeviceService.Default());
        builder.Services.AddUmemHost(o =>
        {
            o.Host.DeviceDirectory = directory;
            o.Nodes.Add(new MinorNode("test0", 0, 0, Mode0666));
        });
        using var app = builder.Build();
        await app.StartAsync().ConfigureAwait(false);
        Console.WriteLine($"ready {Environment.ProcessId} {Path.Combine(directory, "test0")}");
        Console.Out.Flush();
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        Console.WriteLine("stopped");
        return 0;
    }
}
