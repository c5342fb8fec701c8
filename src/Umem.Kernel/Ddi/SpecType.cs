namespace Umem.Kernel.Ddi;

/// <summary>The spec_type of ddi_create_minor_node(9F): S_IFCHR or S_IFBLK (sys/stat.h).</summary>
public enum SpecType
{
    /// <summary>S_IFCHR (0x2000): a character device; what Umem serves.</summary>
    Char = 0x2000,

    /// <summary>S_IFBLK (0x6000): a block device (accepted for fidelity; Umem serves it like a character device).</summary>
    Block = 0x6000,
}
