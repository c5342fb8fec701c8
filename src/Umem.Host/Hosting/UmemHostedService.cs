using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Host.Hosting;

/// <summary>
/// Runs a <see cref="UmemSystem"/> inside a .NET generic host (`umem host`): starts it and loads the configured
/// drivers when the host starts; on stop (SIGTERM, systemd stop, Ctrl+C) ends every connection (releasing what
/// clients held through the drivers), unloads every module (reporting leaks) and frees the memory.
/// </summary>
public sealed partial class UmemHostedService(UmemHostOptions options, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _log = loggerFactory.CreateLogger<UmemHostedService>();
    private PosixSignalRegistration? _hangup;

    /// <summary>The running system; null before start and after stop.</summary>
    public UmemSystem? System { get; private set; }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var system = UmemSystem.Start(options.System, loggerFactory);
        try
        {
            foreach (var path in options.Drivers)
            {
                var module = system.Load(path);
                Loaded(_log, module.Name, path);
            }
        }
        catch
        {
            system.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        foreach (var node in system.Kernel.Nodes) Serving(_log, system.NodePath(node.Name), node.Access.ToString());
        System = system;
        // SIGHUP, a daemon's "re-read your configuration": the project and zones files, never a stop.
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload();
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hangup?.Dispose();
        _hangup = null;
        if (System is not { } system) return;
        System = null;
        await system.Devices.DisconnectAllAsync().ConfigureAwait(false);
        foreach (var module in system.Kernel.Modules.ToList())
        {
            try
            {
                var report = system.Unload(module.Name);
                foreach (var leak in report.Leaks) Leak(_log, module.Name, leak.ToString());
            }
            catch (ErrnoException e)
            {
                UnloadFailed(_log, module.Name, e.Message);
            }
        }
        await system.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Re-reads the project and zones files; a bad file is refused whole and the running values stay.</summary>
    public void Reload()
    {
        if (System is not { } system) return;
        try
        {
            system.ReloadConfiguration();
            Reloaded(_log);
        }
        catch (Exception e) when (e is ConfigFileException or IOException or UnauthorizedAccessException)
        {
            ReloadRefused(_log, e.Message);
        }
    }

    [LoggerMessage(204, LogLevel.Information, "umem host: reloaded the project and zones files")]
    private static partial void Reloaded(ILogger logger);

    [LoggerMessage(205, LogLevel.Error, "umem host: reload refused, the running values stay: {Reason}")]
    private static partial void ReloadRefused(ILogger logger, string reason);

    [LoggerMessage(200, LogLevel.Information, "umem host: loaded {Module} from {Path}")]
    private static partial void Loaded(ILogger logger, string module, string path);

    [LoggerMessage(201, LogLevel.Information, "umem host: serving {Path} ({Access})")]
    private static partial void Serving(ILogger logger, string path, string access);

    [LoggerMessage(202, LogLevel.Warning, "umem host: {Module} leaked {Leak}")]
    private static partial void Leak(ILogger logger, string module, string leak);

    [LoggerMessage(203, LogLevel.Warning, "umem host: unloading {Module} failed: {Reason}")]
    private static partial void UnloadFailed(ILogger logger, string module, string reason);
}
