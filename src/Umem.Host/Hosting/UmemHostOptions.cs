namespace Umem.Host.Hosting;

/// <summary>Settings of the umemd hosted service.</summary>
public sealed class UmemHostOptions
{
    /// <summary>The system's settings: device directory, limits, memory budget, resource-control files.</summary>
    public UmemSystemOptions System { get; set; } = new();

    /// <summary>Driver assemblies loaded (modload) when the service starts, in order.</summary>
    public IList<string> Drivers { get; } = [];
}
