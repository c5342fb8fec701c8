using Umem.Kernel.Ddi;

namespace Umem.Kernel.Modules;

/// <summary>How the host loads one module (the per-module configuration; driver.conf(5) in illumos).</summary>
public sealed record ModuleOptions
{
    /// <summary>Instances to attach (0 … n-1); null takes the driver's <see cref="UmemDriverAttribute.Instances"/>, else 1.</summary>
    public int? Instances { get; init; }

    /// <summary>The module's name (modload's <c>--name</c>); null takes the driver's own.</summary>
    public string? Name { get; init; }

    /// <summary>Properties the driver reads with ddi_prop_get_int / ddi_prop_lookup_string.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>Record the whole stack at every ddi_umem_alloc (for leak reports); off by default, the caller's name and line are always kept.</summary>
    public bool CaptureAllocationStacks { get; init; }

    /// <summary>The most instances a module may ask for.</summary>
    public const int MaxInstances = 1024;
}
