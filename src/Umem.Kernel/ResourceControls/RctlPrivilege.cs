namespace Umem.Kernel.ResourceControls;

/// <summary>
/// Who may change a resource-control value (resource_controls(7)): basic values belong to the process owner,
/// privileged values need privilege (uid 0 in Umem), the system value is fixed.
/// </summary>
public enum RctlPrivilege
{
    /// <summary>Changeable by the owner. Not allowed on the locked-memory controls (RCTL_GLOBAL_NOBASIC).</summary>
    Basic,

    /// <summary>Changeable by a privileged caller; written <c>privileged</c> or <c>priv</c>.</summary>
    Privileged,

    /// <summary>The fixed maximum: UINT64_MAX for the locked-memory controls.</summary>
    System,
}
