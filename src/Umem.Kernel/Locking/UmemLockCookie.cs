using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Kernel.Locking;

/// <summary>
/// Locked application memory: the <c>ddi_umem_cookie_t</c> (type UMEM_LOCKED) that ddi_umem_lock and
/// umem_lockmemory return. While it lives the pages are mlock'ed and the process's project and zone are charged
/// <see cref="Length"/> bytes; <see cref="Unlock"/> (or Dispose) returns exactly what was charged.
/// </summary>
public sealed class UmemLockCookie : IDisposable
{
    private const int Locked = 0;
    private const int Unlocked = 1;
    private const int ForceReleased = 2;

    private readonly RegisteredBuffer _buffer;
    private readonly long _firstPage;
    private int _state = Locked;

    internal UmemLockCookie(UmemProcess process, RegisteredBuffer buffer, ulong userAddress, long length, UmemLockFlags flags, UmemLockCallbacks? callbacks)
    {
        Process = process;
        _buffer = buffer;
        UserAddress = userAddress;
        Length = length;
        Flags = flags;
        Callbacks = callbacks;
        _firstPage = SystemPage.BytesToPages((long)(userAddress - buffer.UserAddress));
    }

    /// <summary>The process whose memory is locked (the cookie's procp).</summary>
    public UmemProcess Process { get; }

    /// <summary>The first locked byte, in the application's address space.</summary>
    public ulong UserAddress { get; }

    /// <summary>Bytes locked (the cookie's size).</summary>
    public long Length { get; }

    public UmemLockFlags Flags { get; }

    /// <summary>The umem_lockmemory callbacks, if any.</summary>
    public UmemLockCallbacks? Callbacks { get; }

    /// <summary>What was charged; <see cref="LockedMemoryCharge.IsCharged"/> is false when both limits were unlimited.</summary>
    public LockedMemoryCharge Charge { get; internal set; }

    /// <summary>The buffer the locked range lies in.</summary>
    public RegisteredBuffer Buffer => _buffer;

    /// <summary>True until unlocked or force-released.</summary>
    public bool IsLocked => Volatile.Read(ref _state) == Locked;

    /// <summary>True when the lock was released because its memory went away (the cleanup callback ran).</summary>
    public bool WasForceReleased => Volatile.Read(ref _state) == ForceReleased;

    /// <summary>Where the host sees the locked memory (the driver's access path to it).</summary>
    public nint HostAddress
    {
        get
        {
            ThrowIfReleased();
            return _buffer.HostAddress + (nint)(UserAddress - _buffer.UserAddress);
        }
    }

    internal long FirstPage => _firstPage;

    internal long PageCount => SystemPage.BytesToPages(Length);

    /// <summary>The locked memory (what the application sees at <see cref="UserAddress"/>).</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        ThrowIfReleased();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is outside the {Length} locked bytes");
        return _buffer.GetHostSpan((long)(UserAddress - _buffer.UserAddress) + offset, length);
    }

    /// <summary>
    /// ddi_umem_unlock(9F): unlocks the pages (munlock once no other cookie holds them) and returns the charge.
    /// Unlocking twice throws; unlocking a cookie that was already force-released (its memory went away, its
    /// cleanup callback ran) does nothing, as illumos's reference-counted cookie allows.
    /// </summary>
    public void Unlock()
    {
        int was = Interlocked.CompareExchange(ref _state, Unlocked, Locked);
        if (was == ForceReleased) return;
        if (was == Unlocked)
            throw new InvalidOperationException($"ddi_umem_unlock: {this} is already unlocked");
        ReleaseCore();
    }

    /// <summary>Same as <see cref="Unlock"/>, but a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.CompareExchange(ref _state, Unlocked, Locked) == Locked)
            ReleaseCore();
    }

    /// <summary>Releases the lock because its memory went away; false if it was already unlocked.</summary>
    internal bool ForceRelease()
    {
        if (Interlocked.CompareExchange(ref _state, ForceReleased, Locked) != Locked) return false;
        ReleaseCore();
        return true;
    }

    private void ReleaseCore()
    {
        // ddi_umem_unlock order: unlock the pages, then decrement the locked-memory count.
        _buffer.Release(this, _firstPage, PageCount);
        ResourceControlRegistry.UnchargeLockedMemory(Charge);
        Process.RemoveLockedBytes(Length);
    }

    private void ThrowIfReleased()
    {
        if (!IsLocked) throw new ObjectDisposedException(nameof(UmemLockCookie), $"{this} is no longer locked");
    }

    public override string ToString() =>
        $"lock cookie [0x{UserAddress:x}, +{Length}) {Flags} of pid {Process.Cred.Pid}";
}
