namespace Umem.Host.Hosting;

/// <summary>Settings of the umemd hosted service.</summary>
public sealed class UmemHostOptions
{
    /// <summary>The device host's settings (device directory, hardening, limits).</summary>
    public DeviceHostOptions Host { get; set; } = new();

    /// <summary>Nodes published when the service starts (drivers publish theirs through <see cref="DeviceHost.Publish"/>).</summary>
    public IList<MinorNode> Nodes { get; } = [];
}
