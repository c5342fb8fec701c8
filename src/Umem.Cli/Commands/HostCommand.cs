using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Umem.Host;
using Umem.Host.Hosting;
using Umem.Kernel.ResourceControls;

namespace Umem.Cli.Commands;

/// <summary><c>umem host</c>: runs umemd — loads driver modules and serves their minor nodes until SIGTERM.</summary>
internal static class HostCommand
{
    internal static Command Create()
    {
        var devDir = new Option<string?>("--dev-dir") { Description = "Device directory (default: /run/umem/dev as root, $XDG_RUNTIME_DIR/umem/dev otherwise)." };
        var drivers = new Option<string[]>("--driver", "-d") { Description = "A driver assembly to load, or the name of a shipped one (xx). Repeatable.", AllowMultipleArgumentsPerToken = true };
        var projectFile = new Option<string?>("--project-file") { Description = "project(5) file (default /etc/umem/project, else the shipped one)." };
        var zonesFile = new Option<string?>("--zones-file") { Description = "Zones file (default /etc/umem/zones, else the shipped one)." };
        var maxBytes = new Option<long?>("--max-bytes") { Description = "Driver memory budget in bytes." };
        var maxLocked = new Option<long?>("--max-locked-bytes") { Description = "Locked driver memory budget in bytes." };
        var lingerSpin = new Option<int?>("--linger-spin-us")
        {
            Description = "Microseconds a connection polls for the client's next request before it sleeps (default 50; 0: sleep at once, spending no CPU on polling).",
        };
        var settings = new Option<string[]>("--set")
        {
            Description = "A limit or timeout of the device host, NAME=VALUE (e.g. MaxOpensPerUid=4096, IdleTimeout=60000: times in ms; docs/design.md lists them). Repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("host", "Run umemd: load drivers and serve their nodes to applications (stops on SIGTERM/Ctrl+C).")
        {
            devDir, drivers, projectFile, zonesFile, maxBytes, maxLocked, lingerSpin, settings,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new UmemSystemOptions { ProjectFile = parse.GetValue(projectFile), ZonesFile = parse.GetValue(zonesFile) };
            if (parse.GetValue(devDir) is { } d) options.Host.DeviceDirectory = Path.GetFullPath(d);
            if (parse.GetValue(maxBytes) is { } mb) options.Memory = options.Memory with { MaxBytes = mb };
            if (parse.GetValue(maxLocked) is { } ml) options.Memory = options.Memory with { MaxLockedBytes = ml };
            if (parse.GetValue(lingerSpin) is { } spin)
            {
                if (spin is < 0 or > 100_000)
                {
                    Console.Error.WriteLine($"umem host: --linger-spin-us must be between 0 and 100000, not {spin}");
                    return 2;
                }
                options.Host.LingerSpin = TimeSpan.FromMicroseconds(spin);
            }
            string[] paths;
            try
            {
                foreach (string setting in parse.GetValue(settings) ?? [])
                {
                    string[] kv = setting.Split('=', 2);
                    if (kv.Length != 2) throw new ArgumentException($"--set wants NAME=VALUE, not \"{setting}\"");
                    options.Host.Set(kv[0], kv[1]);
                }
                paths = [.. (parse.GetValue(drivers) ?? []).Select(DriverPaths.Resolve)];
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                Console.Error.WriteLine($"umem host: {e.Message}");
                return 2;
            }

            var builder = UmemHostingExtensions.CreateUmemHostBuilder();
            builder.Services.AddUmemHost(o =>
            {
                o.System = options;
                foreach (var p in paths) o.Drivers.Add(p);
            });
            using var app = builder.Build();
            // What a person or a script starting the host waits for: one line per node once its socket listens.
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStarted.Register(() =>
            {
                if (app.Services.GetRequiredService<UmemHostedService>().System is not { } system) return;
                foreach (var module in system.Kernel.Modules) Console.WriteLine($"umem host: loaded {module.Name} from {module.Path}");
                foreach (var node in system.Kernel.Nodes) Console.WriteLine($"umem host: {system.NodePath(node.Name)} ({node.Access})");
            });
            try
            {
                await app.RunAsync(ct).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is ConfigFileException or Platform.ErrnoException or ArgumentException)
            {
                Console.Error.WriteLine($"umem host: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
