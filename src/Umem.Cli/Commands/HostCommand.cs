using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Umem.Host;
using Umem.Host.Hosting;
using Umem.Kernel.ResourceControls;

namespace Umem.Cli.Commands;

/// <summary><c>umem host</c>: runs umemd — loads driver modules and serves their minor nodes until SIGTERM.</summary>
internal static class HostCommand
{
    internal static Command Create()
    {
        var devDir = new Option<string?>("--dev-dir") { Description = "Device directory (default: DIR/dev of --host-dir)." };
        var hostDir = new Option<string?>("--host-dir")
        {
            Description = $"The host's directory: nodes in DIR/dev, the admin socket at DIR/admin (default: ${Admin.HostAdmin.HostDirVariable}, else /run/umem as root, $XDG_RUNTIME_DIR/umem otherwise).",
        };
        var adminGroup = new Option<string?>("--admin-group") { Description = "A group (name or gid) whose members may read through the admin socket (modinfo, pmap, prctl, stat)." };
        var drivers = new Option<string[]>("--driver", "-d") { Description = "A driver assembly to load, or the name of a shipped one (xx). Repeatable.", AllowMultipleArgumentsPerToken = true };
        var projectFile = new Option<string?>("--project-file") { Description = "project(5) file (default /etc/umem/project, else the shipped one)." };
        var zonesFile = new Option<string?>("--zones-file") { Description = "Zones file (default /etc/umem/zones, else the shipped one)." };
        var minorPerm = new Option<string?>("--minor-perm") { Description = "minor_perm(4) file: who may open which node (default /etc/umem/minor_perm when it exists)." };
        var nodePerm = new Option<string[]>("--node-perm")
        {
            Description = "A minor_perm line, 'DRIVER:NODE MODE [OWNER [GROUP]]' (NODE may hold '*'), e.g. 'xx:* 0660 - video' ('-': the host's default). Repeatable; after the file's lines.",
        };
        var maxBytes = CliOptions.Bytes("--max-bytes", "Driver memory budget (bytes, or with K, M, G, T).");
        var maxLocked = CliOptions.Bytes("--max-locked-bytes", "Locked driver memory budget (bytes, or with K, M, G, T).");
        var maxFds = CliOptions.Int("--max-fds", "Memfds (host fds) driver memory may hold at once (default: half the hard RLIMIT_NOFILE).", 1, int.MaxValue);
        var maxMappings = CliOptions.Int("--max-mappings", "Host mappings (VMAs) driver memory may hold at once (default: half of vm.max_map_count).", 1, int.MaxValue);
        var lingerSpin = CliOptions.Int("--linger-spin-us",
            "Microseconds a connection polls for the client's next request before it sleeps (default 50; 0: sleep at once, spending no CPU on polling).",
            0, 100_000);
        var logLevel = CliOptions.Choice<LogLevel>("--log-level", "Least severe log level shown (Trace, Debug, Information, Warning, Error, Critical, None); wins over configuration.");
        var logFormat = CliOptions.Choice<UmemLogFormat>("--log-format", "Simple (default), Json, or Systemd (the default under systemd: journal priorities).");
        var settings = new Option<string[]>("--set")
        {
            Description = "A limit or timeout of the device host, NAME=VALUE (e.g. MaxOpensPerUid=4096, IdleTimeout=60000: times in ms; docs/design.md lists them). Repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("host", "Run umemd: load drivers and serve their nodes to applications (stops on SIGTERM/Ctrl+C).")
        {
            hostDir, devDir, adminGroup, drivers, projectFile, zonesFile, minorPerm, nodePerm, maxBytes, maxLocked, maxFds, maxMappings, lingerSpin, logLevel, logFormat, settings,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new UmemSystemOptions
            {
                ProjectFile = parse.GetValue(projectFile),
                ZonesFile = parse.GetValue(zonesFile),
                MinorPermFile = parse.GetValue(minorPerm),
            };
            foreach (string line in parse.GetValue(nodePerm) ?? []) options.NodePermissions.Add(line);
            string home = Path.GetFullPath(parse.GetValue(hostDir) ?? Admin.HostAdmin.DefaultHostDirectory());
            options.Host.DeviceDirectory = Path.Combine(home, "dev");
            options.Host.AdminSocket = Path.Combine(home, Host.DeviceHostOptions.AdminSocketName);
            if (parse.GetValue(devDir) is { } d)
            {
                options.Host.DeviceDirectory = Path.GetFullPath(d);
                if (parse.GetValue(hostDir) is null) options.Host.AdminSocket = null; // beside the device directory
            }
            if (parse.GetValue(maxBytes) is { } mb) options.Memory = options.Memory with { MaxBytes = mb };
            if (parse.GetValue(maxLocked) is { } ml) options.Memory = options.Memory with { MaxLockedBytes = ml };
            if (parse.GetValue(maxFds) is { } mf) options.Memory = options.Memory with { MaxFds = mf };
            if (parse.GetValue(maxMappings) is { } mm) options.Memory = options.Memory with { MaxMappings = mm };
            if (parse.GetValue(lingerSpin) is { } spin) options.Host.LingerSpin = TimeSpan.FromMicroseconds(spin);
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
                if (parse.GetValue(adminGroup) is { } group) options.Host.AdminGroup = GroupId(group);
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                Console.Error.WriteLine($"umem host: {e.Message}");
                return ExitCodes.Usage;
            }

            HostGc.Apply();
            Console.WriteLine($"umem host: GC {HostGc.Describe()}");
            var level = parse.GetValue(logLevel);
            var builder = UmemHostingExtensions.CreateUmemHostBuilder(format: parse.GetValue(logFormat), minimumLevel: level);
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
                return ExitCodes.Success;
            }
            catch (ConfigFileException e)
            {
                Console.Error.WriteLine($"umem host: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is Platform.ErrnoException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                // A user's mistake or the system's refusal: one line; the stack only for a debugging reader.
                Console.Error.WriteLine($"umem host: {e.Message}");
                if (level is LogLevel.Trace or LogLevel.Debug) Console.Error.WriteLine(e);
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>A group by name or number (ArgumentException naming it otherwise).</summary>
    private static uint GroupId(string group) =>
        uint.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint gid) ? gid
        : UserDatabase.Load().FindGroup(group)?.Gid ?? throw new ArgumentException($"--admin-group: no group \"{group}\" in /etc/group");
}
