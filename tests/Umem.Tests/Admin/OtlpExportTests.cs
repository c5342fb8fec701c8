using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenTelemetry.Metrics;
using Umem.Client;
using Umem.Host.Hosting;
using Umem.Platform;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>
/// OpenTelemetry export of the host's meter: off by default, and when the configuration names a collector the real
/// `umem host` process posts OTLP/HTTP metrics there (received by a collector stand-in in this test).
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public void NoExporterUnlessConfigured()
    {
        using var quiet = UmemHostingExtensions.CreateUmemHostBuilder().Build();
        Assert.Null(quiet.Services.GetService(typeof(MeterProvider)));
    }

    [Theory]
    [InlineData("Endpoint", "ftp://collector", "is not an http:// or https:// URL")]
    [InlineData("Protocol", "thrift", "is neither http/protobuf nor grpc")]
    [InlineData("ExportIntervalMilliseconds", "-5", "is not a positive number")]
    public void ABadSettingIsNamed(string name, string value, string message)
    {
        var settings = new List<string> { "--Umem:Otlp:Endpoint=http://127.0.0.1:4318" };
        settings.Add($"--Umem:Otlp:{name}={value}");
        var e = Assert.Throws<ArgumentException>(() => UmemHostingExtensions.CreateUmemHostBuilder([.. settings]));
        Assert.Contains($"Umem:Otlp:{name} \"{value}\" {message}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRealHostPostsItsMeterToTheConfiguredCollector()
    {
        using var collector = new HttpListener();
        int port = FreePort();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        using var host = CliHost.Start(["xx"], [], null,
            [$"Umem__Otlp__Endpoint=http://127.0.0.1:{port}", "Umem__Otlp__ExportIntervalMilliseconds=200"], "xx0");
        using var device = UmemDevice.Open(host.NodePath("xx0"));
        using var mapping = device.Map(0, SystemPage.Size, Prot.ReadWrite);

        // Export requests until one carries the live mapping's gauge (the first may precede the map).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); // a guard against a hang, not a timing
        string? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            var context = await collector.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body, TestContext.Current.CancellationToken);
            Assert.Equal(("POST", "/v1/metrics", "application/x-protobuf"),
                (context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType));
            context.Response.StatusCode = 200;
            context.Response.Close();
            // Protobuf keeps strings as UTF-8 bytes: the meter's and the instruments' names are there as written.
            string text = Encoding.UTF8.GetString(body.ToArray());
            if (text.Contains("umemd", StringComparison.Ordinal) && text.Contains("Umem", StringComparison.Ordinal)
                && text.Contains("umem.mappings", StringComparison.Ordinal) && text.Contains("umem.requests", StringComparison.Ordinal))
            {
                seen = text;
                break;
            }
        }
        Assert.NotNull(seen);
        Assert.Equal(0, host.Stop());
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
