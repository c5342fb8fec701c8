namespace Umem.Kernel.Modules;

/// <summary>A minor node was published or removed.</summary>
public sealed class MinorNodeEventArgs(MinorNode node) : EventArgs
{
    /// <summary>The node.</summary>
    public MinorNode Node { get; } = node;
}
