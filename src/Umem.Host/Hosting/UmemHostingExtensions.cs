using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Umem.Host.Hosting;

/// <summary>Wiring umemd into a .NET generic host.</summary>
public static class UmemHostingExtensions
{
    /// <summary>
    /// Adds umemd: the hosted service that starts a <see cref="UmemSystem"/> (kernel, drivers, device host) with the
    /// generic host's logging, and stops it.
    /// </summary>
    public static IServiceCollection AddUmemHost(this IServiceCollection services, Action<UmemHostOptions>? configure = null)
    {
        var options = new UmemHostOptions();
        configure?.Invoke(options);
        services.AddSingleton(options);
        services.AddSingleton<UmemHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<UmemHostedService>());
        return services;
    }

    /// <summary>
    /// A generic host builder for umemd: systemd integration (notify, journal-friendly logs) when run as a
    /// systemd service, console logging otherwise, and a graceful stop on SIGTERM.
    /// </summary>
    public static HostApplicationBuilder CreateUmemHostBuilder(string[]? args = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(args ?? []);
        builder.Services.AddSystemd();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        return builder;
    }
}
