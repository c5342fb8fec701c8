namespace Umem.Kernel.Ddi;

/// <summary>
/// What the framework gives a driver module: its memory (ddi_umem_alloc), its messages (cmn_err) and its
/// configuration (driver.conf properties). One per loaded module; reach it as <c>Context</c> in the driver or
/// as <see cref="DevInfo.Context"/>.
/// </summary>
public sealed class DdiContext
{
    private readonly Action<DdiMessage> _sink;

    internal DdiContext(string moduleName, ModuleAllocator allocator, IReadOnlyDictionary<string, string> properties, Action<DdiMessage> sink)
    {
        ModuleName = moduleName;
        Allocator = allocator;
        Properties = properties;
        _sink = sink;
    }

    /// <summary>The module's (driver's) name.</summary>
    public string ModuleName { get; }

    /// <summary>ddi_umem_alloc(9F)/ddi_umem_free(9F), accounted to this module.</summary>
    public ModuleAllocator Allocator { get; }

    /// <summary>The module's configuration (the driver.conf(5) counterpart), from the host.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>cmn_err(9F): a message for the host's log.</summary>
    public void CmnErr(CeLevel level, string message) =>
        _sink(new DdiMessage(DateTimeOffset.UtcNow, ModuleName, level, message));
}
