using Microsoft.Extensions.Hosting;

namespace Umem.Host.Hosting;

/// <summary>
/// Runs a <see cref="DeviceHost"/> inside a .NET generic host (`umem host`): publishes the configured nodes at
/// start; on stop (SIGTERM, systemd stop, Ctrl+C) ends every connection, releasing all client state through the
/// device service, and removes the sockets.
/// </summary>
public sealed class UmemHostedService(DeviceHost host, UmemHostOptions options) : IHostedService
{
    /// <summary>The device host being run.</summary>
    public DeviceHost Host { get; } = host;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var node in options.Nodes) Host.Publish(node);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken) => await Host.DisposeAsync().ConfigureAwait(false);
}
