namespace Umem.Kernel.Ddi;

/// <summary>Node types of ddi_create_minor_node(9F) (sys/sunddi.h).</summary>
public static class NodeTypes
{
    /// <summary>DDI_PSEUDO ("ddi_pseudo"): a pseudo device, as every Umem driver is.</summary>
    public const string Pseudo = "ddi_pseudo";
}
