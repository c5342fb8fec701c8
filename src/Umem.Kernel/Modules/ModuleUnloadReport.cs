using Umem.Kernel.Ddi;

namespace Umem.Kernel.Modules;

/// <summary>What a modunload found: the cookies the driver never freed (each reclaimed).</summary>
/// <param name="Module">The module unloaded.</param>
/// <param name="Leaks">One record per cookie left allocated.</param>
public sealed record ModuleUnloadReport(string Module, IReadOnlyList<LeakRecord> Leaks)
{
    /// <summary>When the module was unloaded.</summary>
    public DateTimeOffset UnloadedAt { get; init; } = DateTimeOffset.UtcNow;
}
