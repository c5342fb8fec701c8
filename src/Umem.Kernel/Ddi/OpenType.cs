namespace Umem.Kernel.Ddi;

/// <summary>The open type open(9E) and close(9E) receive (sys/open.h).</summary>
public enum OpenType
{
    /// <summary>OTYP_BLK (0): a block device open.</summary>
    Block = 0,

    /// <summary>OTYP_CHR (2): a character device open; every Umem open is one.</summary>
    Char = 2,

    /// <summary>OTYP_LYR (4): a layered open from another driver.</summary>
    Layered = 4,
}
