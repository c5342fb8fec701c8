using Umem.Kernel.Ddi;

namespace Umem.Kernel.Modules;

/// <summary>A driver or the framework said something about a module.</summary>
public sealed class DdiMessageEventArgs(DdiMessage message) : EventArgs
{
    /// <summary>The message.</summary>
    public DdiMessage Message { get; } = message;
}
