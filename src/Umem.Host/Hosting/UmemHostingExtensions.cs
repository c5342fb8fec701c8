using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

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
    /// A generic host builder for umemd: systemd integration (notify, journal priorities) when run as a systemd
    /// service, and every log line, Umem's and the runtime's, through the one logging pipeline, so
    /// <c>Logging__LogLevel__*</c> settings and the formatter reach them all. <paramref name="format"/> defaults to
    /// <see cref="UmemLogFormat.Systemd"/> under systemd, else <see cref="UmemLogFormat.Simple"/>;
    /// <paramref name="minimumLevel"/>, when given, wins over configuration. OTLP export of the meter is added when
    /// the configuration asks for it (<see cref="UmemTelemetry"/>).
    /// </summary>
    public static HostApplicationBuilder CreateUmemHostBuilder(string[]? args = null, UmemLogFormat? format = null, LogLevel? minimumLevel = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(args ?? []);
        builder.Services.AddSystemd();
        builder.Logging.ClearProviders();
        switch (format ?? (SystemdHelpers.IsSystemdService() ? UmemLogFormat.Systemd : UmemLogFormat.Simple))
        {
            case UmemLogFormat.Json:
                builder.Logging.AddJsonConsole();
                break;
            case UmemLogFormat.Systemd:
                builder.Logging.AddSystemdConsole();
                break;
            default:
                builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
                break;
        }
        if (minimumLevel is { } level) builder.Logging.AddFilter<ConsoleLoggerProvider>(null, level);
        // A start that fails is reported by `umem host` in one line; the generic host's own report of it carries the
        // stack trace, which only a debugging reader wants.
        if (minimumLevel is not (LogLevel.Trace or LogLevel.Debug))
            builder.Logging.AddFilter<ConsoleLoggerProvider>("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        UmemTelemetry.AddOtlpExportIfConfigured(builder); // off unless Umem:Otlp:Endpoint is set
        return builder;
    }
}
