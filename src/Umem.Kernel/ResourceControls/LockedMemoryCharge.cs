namespace Umem.Kernel.ResourceControls;

/// <summary>
/// What one lock was charged: the project and zone and the byte count, or nothing when both limits were
/// unlimited at lock time. Kept with the lock cookie so the unlock returns exactly this (upd_max_lock_rctl).
/// </summary>
public readonly record struct LockedMemoryCharge(RctlEntity? Project, RctlEntity? Zone, ulong Bytes)
{
    /// <summary>Nothing was charged (both controls were unlimited).</summary>
    public static LockedMemoryCharge None => default;

    /// <summary>True when the charge counted against the project and zone.</summary>
    public bool IsCharged => Project is not null;
}
