namespace Umem.Kernel.Locking;

/// <summary>
/// <c>struct umem_callback_ops</c> of umem_lockmemory: the version and the cleanup callback that runs when
/// locked memory goes away under a lock (its buffer is unregistered, or its process exits).
/// </summary>
/// <param name="LockCleanup">cbo_umem_lock_cleanup: receives the cookie; may call <see cref="UmemLockCookie.Unlock"/>.</param>
/// <param name="Version">cbo_umem_callback_version; must be <see cref="CurrentVersion"/>.</param>
public sealed record UmemLockCallbacks(Action<UmemLockCookie>? LockCleanup, int Version = UmemLockCallbacks.CurrentVersion)
{
    /// <summary>UMEM_CALLBACK_VERSION.</summary>
    public const int CurrentVersion = 1;
}
