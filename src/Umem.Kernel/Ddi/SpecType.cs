namespace Umem.Kernel.Ddi;

/// <summary>The spec_type of ddi_create_minor_node(9F): S_IFCHR or S_IFBLK (sys/stat.h).</summary>
public enum SpecType
{
    /// <summary>S_IFCHR (0x2000): a character device; what Umem serves.</summary>
    Char = 0x2000,

    /// <summary>S_IFBLK (0x6000): a block device (accepted for fidelity; Umem serves it like a character device).</summary>
    Block = 0x6000,
}

/// <summary>Node types of ddi_create_minor_node(9F) (sys/sunddi.h).</summary>
public static class NodeTypes
{
    /// <summary>DDI_PSEUDO ("ddi_pseudo"): a pseudo device, as every Umem driver is.</summary>
    public const string Pseudo = "ddi_pseudo";
}

/// <summary>The cmd of attach(9E): DDI_ATTACH or DDI_RESUME.</summary>
public enum AttachCommand
{
    /// <summary>DDI_ATTACH (0): attach a new instance.</summary>
    Attach = 0,

    /// <summary>DDI_RESUME (1): resume a suspended instance (Umem never suspends).</summary>
    Resume = 1,
}

/// <summary>The cmd of detach(9E): DDI_DETACH or DDI_SUSPEND.</summary>
public enum DetachCommand
{
    /// <summary>DDI_DETACH (0): detach the instance.</summary>
    Detach = 0,

    /// <summary>DDI_SUSPEND (1): suspend the instance (Umem never suspends).</summary>
    Suspend = 1,
}

/// <summary>Severity of cmn_err(9F).</summary>
public enum CeLevel
{
    /// <summary>CE_CONT (0): continues a previous message.</summary>
    Cont = 0,

    /// <summary>CE_NOTE (1): a notice.</summary>
    Note = 1,

    /// <summary>CE_WARN (2): a warning.</summary>
    Warn = 2,

    /// <summary>CE_PANIC (3): in illumos a panic; in Umem an error message (the host does not stop).</summary>
    Panic = 3,
}
