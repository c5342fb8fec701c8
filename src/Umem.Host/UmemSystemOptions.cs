using Umem.Kernel.Memory;

namespace Umem.Host;

/// <summary>Everything a running Umem needs: the device host, the driver-memory budget, the resource-control files.</summary>
public sealed class UmemSystemOptions
{
    /// <summary>Device directory, hardening and per-connection limits.</summary>
    public DeviceHostOptions Host { get; set; } = new();

    /// <summary>The drivers' memory budget (ddi_umem_alloc).</summary>
    public UmemAllocatorOptions Memory { get; set; } = new();

    /// <summary>The project(5) file; null: /etc/umem/project, else the shipped default.</summary>
    public string? ProjectFile { get; set; }

    /// <summary>The zones file; null: /etc/umem/zones, else the shipped default.</summary>
    public string? ZonesFile { get; set; }

    /// <summary>The minor_perm(4) file (who may open which node); null: /etc/umem/minor_perm when it exists.</summary>
    public string? MinorPermFile { get; set; }

    /// <summary>More minor_perm lines (<c>driver:minor mode [owner [group]]</c>), after the file's.</summary>
    public IList<string> NodePermissions { get; } = [];
}
