using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
            foreach (var path in options.Drivers) system.Load(path);
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
                system.Unload(module.Name);
            }
            catch (ErrnoException e)
            {
                UnloadFailed(_log, module.Name, e.Message);
            }
        }
        await system.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Re-reads the project and zones files (SIGHUP; the admin socket's reload takes the same path,
    /// <see cref="UmemSystem.Reload"/>); a bad file is refused whole and the running values stay.
    /// </summary>
    public void Reload() => System?.Reload();

    // Ids 200, 202, 204 and 205 (loaded, leaked, reloaded, reload refused) are logged by UmemSystem (Log.cs) since the
    // admin socket loads, unloads and reloads through it too; they keep their ids.

    [LoggerMessage(201, LogLevel.Information, "umem host: serving {Path} ({Access})")]
    private static partial void Serving(ILogger logger, string path, string access);

    [LoggerMessage(203, LogLevel.Warning, "umem host: unloading {Module} failed: {Reason}")]
    private static partial void UnloadFailed(ILogger logger, string module, string reason);
}
