using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Kernel.Locking;

/// <summary>
/// ddi_umem_lock(9F), umem_lockmemory and ddi_umem_unlock(9F): lock a process's registered memory for a
/// driver, charged against project.max-locked-memory and zone.max-locked-memory.
/// </summary>
/// <remarks>
/// The accounting is illumos's "imprecise full price model": every lock is charged its full length, so two
/// overlapping locks in one project are charged twice, while mlock counts the pages once. Errors (as the man
/// page and sunddi.c give them): EINVAL for bad flags, a misaligned or empty range, a LONGTERM lock without a
/// cleanup callback or a callback version other than 1; ENOMEM when a limit denies (the rctl layer says
/// EAGAIN, the DDI says ENOMEM); EFAULT when the range is not inside one registered buffer; EACCES for a WRITE
/// lock on a read-only buffer; mlock's own errno if the OS refuses.
/// </remarks>
public static class UmemLock
{
    private const UmemLockFlags ReadWrite = UmemLockFlags.Read | UmemLockFlags.Write;

    /// <summary>ddi_umem_lock for the current process (<see cref="UmemProcess.Current"/>).</summary>
    public static UmemLockCookie Lock(ulong address, long length, UmemLockFlags flags) =>
        Lock(UmemProcess.Current ?? throw new InvalidOperationException("ddi_umem_lock: no current process (UmemProcess.Enter)"), address, length, flags);

    /// <summary>ddi_umem_lock: locks [address, address+length) of <paramref name="process"/>; throws <see cref="ErrnoException"/>.</summary>
    public static UmemLockCookie Lock(UmemProcess process, ulong address, long length, UmemLockFlags flags)
    {
        Errno e = TryLock(process, address, length, flags, out var cookie, out string? why);
        return e == Errno.None ? cookie! : throw new ErrnoException(e, Describe("ddi_umem_lock", address, length, flags), why ?? e.Describe());
    }

    /// <summary>ddi_umem_lock as a Try-pattern: the errno (None on success) and the cookie.</summary>
    public static Errno TryLock(UmemProcess process, ulong address, long length, UmemLockFlags flags, out UmemLockCookie? cookie) =>
        TryLock(process, address, length, flags, out cookie, out _);

    /// <summary>
    /// umem_lockmemory: as ddi_umem_lock, and also accepts LONGTERM, which needs
    /// <paramref name="callbacks"/> with a cleanup callback. A null <paramref name="process"/> means the current one.
    /// </summary>
    public static UmemLockCookie LockMemory(ulong address, long length, UmemLockFlags flags, UmemLockCallbacks? callbacks, UmemProcess? process = null)
    {
        Errno e = TryLockMemory(address, length, flags, callbacks, out var cookie, out string? why, process);
        return e == Errno.None ? cookie! : throw new ErrnoException(e, Describe("umem_lockmemory", address, length, flags), why ?? e.Describe());
    }

    /// <summary>umem_lockmemory as a Try-pattern.</summary>
    public static Errno TryLockMemory(ulong address, long length, UmemLockFlags flags, UmemLockCallbacks? callbacks,
        out UmemLockCookie? cookie, UmemProcess? process = null) =>
        TryLockMemory(address, length, flags, callbacks, out cookie, out _, process);

    /// <summary>ddi_umem_unlock: same as <see cref="UmemLockCookie.Unlock"/>.</summary>
    public static void Unlock(UmemLockCookie cookie)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        cookie.Unlock();
    }

    private static Errno TryLock(UmemProcess process, ulong address, long length, UmemLockFlags flags, out UmemLockCookie? cookie, out string? why)
    {
        cookie = null;
        // ddi_umem_lock(9F): only READ and WRITE, at least one of them (LONGTERM is umem_lockmemory's).
        if ((flags & ~ReadWrite) != 0 || (flags & ReadWrite) == 0)
        {
            why = $"flags 0x{(int)flags:x}: READ and/or WRITE, nothing else";
            return Errno.EINVAL;
        }
        return LockCore(process, address, length, flags, null, out cookie, out why);
    }

    private static Errno TryLockMemory(ulong address, long length, UmemLockFlags flags, UmemLockCallbacks? callbacks,
        out UmemLockCookie? cookie, out string? why, UmemProcess? process)
    {
        cookie = null;
        if ((flags & ~(ReadWrite | UmemLockFlags.LongTerm)) != 0 || (flags & ReadWrite) == 0)
        {
            why = $"flags 0x{(int)flags:x}: READ and/or WRITE, optionally LONGTERM";
            return Errno.EINVAL;
        }
        if (callbacks is not null && callbacks.Version != UmemLockCallbacks.CurrentVersion)
        {
            why = $"cbo_umem_callback_version {callbacks.Version}, expected {UmemLockCallbacks.CurrentVersion}";
            return Errno.EINVAL;
        }
        if ((flags & UmemLockFlags.LongTerm) != 0 && callbacks?.LockCleanup is null)
        {
            why = "LONGTERM needs a cleanup callback (cbo_umem_lock_cleanup)";
            return Errno.EINVAL;
        }
        process ??= UmemProcess.Current;
        if (process is null)
        {
            why = "no current process (UmemProcess.Enter)";
            return Errno.EINVAL;
        }
        return LockCore(process, address, length, flags, callbacks, out cookie, out why);
    }

    private static Errno LockCore(UmemProcess process, ulong address, long length, UmemLockFlags flags,
        UmemLockCallbacks? callbacks, out UmemLockCookie? cookie, out string? why)
    {
        ArgumentNullException.ThrowIfNull(process);
        cookie = null;
        why = null;
        if (length <= 0 || !SystemPage.IsAligned(length) || (address & (ulong)(SystemPage.Size - 1)) != 0)
        {
            why = "address and length must be page-aligned and the length non-zero";
            return Errno.EINVAL;
        }
        var buffer = process.FindBuffer(address, (ulong)length);
        if (buffer is null)
        {
            why = $"[0x{address:x}, +{length}) is not inside one registered buffer of pid {process.Cred.Pid}";
            return Errno.EFAULT;
        }
        if ((flags & UmemLockFlags.Write) != 0 && !buffer.Writable)
        {
            why = $"{buffer} is read-only";
            return Errno.EACCES;
        }

        // Without an administrator's project entry, the process's own RLIMIT_MEMLOCK bounds what the host locks for it.
        long limit = process.Project.LockedMemory.PrivilegedValues.Count == 0 ? process.LockedMemoryLimit : long.MaxValue;
        if (!process.TryAddLockedBytes(length, limit))
        {
            why = $"pid {process.Cred.Pid} would have more than its RLIMIT_MEMLOCK of {limit} bytes locked "
                + $"({process.LockedBytes} locked); an administrator's project.max-locked-memory entry can allow more";
            return Errno.ENOMEM;
        }

        // sunddi.c: charge first, then lock the pages; undo the charge if locking fails.
        Errno e = process.Registry.TryChargeLockedMemory(process.Project, process.Zone, process.Cred.Pid, (ulong)length, out var charge);
        if (e != Errno.None)
        {
            process.RemoveLockedBytes(length);
            why = DenyReason(process, (ulong)length);
            return Errno.ENOMEM;
        }
        var c = new UmemLockCookie(process, buffer, address, length, flags, callbacks) { Charge = charge };
        e = buffer.Acquire(c, c.FirstPage, c.PageCount);
        if (e != Errno.None)
        {
            ResourceControlRegistry.UnchargeLockedMemory(charge);
            process.RemoveLockedBytes(length);
            why = e == Errno.EFAULT ? $"{buffer} was unregistered" : $"mlock refused: {e.Describe()}";
            return e;
        }
        cookie = c;
        return Errno.None;
    }

    private static string DenyReason(UmemProcess process, ulong length)
    {
        var p = process.Project.LockedMemory;
        var z = process.Zone.LockedMemory;
        return p.Usage + length > p.Limit || p.Usage + length < p.Usage
            ? $"{p.Definition.Name} of {process.Project}: usage {p.Usage} + {length} > {p.Limit}"
            : $"{z.Definition.Name} of {process.Zone}: usage {z.Usage} + {length} > {z.Limit}";
    }

    private static string Describe(string call, ulong address, long length, UmemLockFlags flags) =>
        $"{call}(addr=0x{address:x}, len={length}, flags={flags})";
}
