namespace Umem.Kernel.Modules;

/// <summary>A module was unloaded.</summary>
public sealed class ModuleUnloadedEventArgs(ModuleUnloadReport report) : EventArgs
{
    /// <summary>What the unload found.</summary>
    public ModuleUnloadReport Report { get; } = report;
}
