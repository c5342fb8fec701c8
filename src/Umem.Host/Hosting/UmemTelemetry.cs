using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Umem.Host.Hosting;

/// <summary>
/// OpenTelemetry export of the host's meter (<see cref="UmemMetrics.MeterName"/>) over OTLP, off unless the
/// configuration names a collector: <c>Umem:Otlp:Endpoint</c> (e.g. <c>Umem__Otlp__Endpoint=http://127.0.0.1:4318</c>
/// in the environment), with <c>Umem:Otlp:Protocol</c> (<c>http/protobuf</c>, the default, or <c>grpc</c>) and
/// <c>Umem:Otlp:ExportIntervalMilliseconds</c> (60,000 by default). A bad value stops the start with a message
/// naming the setting.
/// </summary>
public static class UmemTelemetry
{
    /// <summary>The configuration section read.</summary>
    public const string Section = "Umem:Otlp";

    /// <summary>Adds the OTLP metrics exporter when <see cref="Section"/> has an endpoint; does nothing otherwise.</summary>
    public static void AddOtlpExportIfConfigured(HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(Section);
        string? endpoint = section["Endpoint"];
        if (string.IsNullOrWhiteSpace(endpoint)) return;

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{Section}:Endpoint \"{endpoint}\" is not an http:// or https:// URL");
        var protocol = section["Protocol"] switch
        {
            null or "" or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            var other => throw new ArgumentException($"{Section}:Protocol \"{other}\" is neither http/protobuf nor grpc"),
        };
        string? intervalText = section["ExportIntervalMilliseconds"];
        int interval = 60_000;
        if (intervalText is not null && (!int.TryParse(intervalText, System.Globalization.CultureInfo.InvariantCulture, out interval) || interval <= 0))
            throw new ArgumentException($"{Section}:ExportIntervalMilliseconds \"{intervalText}\" is not a positive number of milliseconds");
        // Set in code, the endpoint is used as given; over HTTP the collector's metrics path is /v1/metrics (the
        // OTEL_EXPORTER_OTLP_ENDPOINT convention), so a bare base URL gets it.
        if (protocol == OtlpExportProtocol.HttpProtobuf && uri.AbsolutePath is "" or "/")
            uri = new Uri(uri, "v1/metrics");

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("umemd"))
            .WithMetrics(metrics => metrics
                .AddMeter(UmemMetrics.MeterName)
                .AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = uri;
                    exporter.Protocol = protocol;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                }));
    }
}
