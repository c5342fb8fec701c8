namespace Umem.Kernel.Ddi;

/// <summary>The cmd of detach(9E): DDI_DETACH or DDI_SUSPEND.</summary>
public enum DetachCommand
{
    /// <summary>DDI_DETACH (0): detach the instance.</summary>
    Detach = 0,

    /// <summary>DDI_SUSPEND (1): suspend the instance (Umem never suspends).</summary>
    Suspend = 1,
}
