namespace Umem.Kernel.Modules;

/// <summary>The lifetime of a module.</summary>
public enum ModuleState
{
    /// <summary>The assembly is loaded and the driver constructed (_init); instances are attaching.</summary>
    Loaded,

    /// <summary>Every instance is attached; its nodes are published and can be opened.</summary>
    Attached,

    /// <summary>modunload is detaching the instances; no new opens.</summary>
    Detaching,

    /// <summary>Gone: instances detached, leaks reclaimed, load context unloaded.</summary>
    Unloaded,
}
