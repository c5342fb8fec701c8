using System.Globalization;
using System.Runtime;

namespace Umem.Cli.Commands;

/// <summary>
/// The host process's garbage collector, as `umem host` reports it at start (docs/design.md, "The host's GC"): a
/// host holds a record per mapping for as long as the mapping lives, so its pauses depend on these settings.
/// </summary>
internal static class HostGc
{
    /// <summary>
    /// Asks for background (concurrent) full GCs only, never blocking ones unless memory runs short
    /// (GCLatencyMode.SustainedLowLatency): a full blocking GC marks every mapping's records with the host stopped.
    /// A non-concurrent runtime ignores it (its latency mode stays Batch).
    /// </summary>
    internal static void Apply() => GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;

    /// <summary>
    /// One line: workstation or server, concurrent (background) or not (the runtime reports a non-concurrent GC as
    /// latency mode Batch), the latency mode, and the gen0 budget when the environment sets one (the runtime reads
    /// DOTNET_GCgen0size from the environment only; runtimeconfig.json has no setting for it).
    /// </summary>
    internal static string Describe()
    {
        string kind = GCSettings.IsServerGC ? "server" : "workstation";
        string concurrent = GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent";
        string gen0 = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { } size ? $", gen0size {size} (environment)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{kind}, {concurrent}, latency mode {GCSettings.LatencyMode}{gen0}, {Environment.ProcessorCount} CPUs");
    }
}
