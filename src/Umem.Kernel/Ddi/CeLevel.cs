namespace Umem.Kernel.Ddi;

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
