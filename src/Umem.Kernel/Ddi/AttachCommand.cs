namespace Umem.Kernel.Ddi;

/// <summary>The cmd of attach(9E): DDI_ATTACH or DDI_RESUME.</summary>
public enum AttachCommand
{
    /// <summary>DDI_ATTACH (0): attach a new instance.</summary>
    Attach = 0,

    /// <summary>DDI_RESUME (1): resume a suspended instance (Umem never suspends).</summary>
    Resume = 1,
}
