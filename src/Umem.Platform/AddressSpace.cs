namespace Umem.Platform;

/// <summary>
/// mmap(2) and friends on ranges of this process's address space that no <see cref="MappedRegion"/> owns: a
/// client's mapping assembled from several segments, pages a registered buffer locks. <c>prot</c> is mmap's
/// PROT_* bits; every call returns the errno (<see cref="Errno.None"/> on success) unless it says it throws.
/// </summary>
internal static class AddressSpace
{
    /// <summary>mmap(NULL, length, prot, MAP_SHARED or MAP_PRIVATE [|MAP_POPULATE], fd, offset).</summary>
    internal static Errno TryMap(SafeFd fd, long offset, long length, int prot, bool shared, out nint address, bool populate = false)
    {
        int flags = (shared ? Interop.MAP_SHARED : Interop.MAP_PRIVATE) | (populate ? Interop.MAP_POPULATE : 0);
        address = Interop.mmap(0, (nuint)length, prot, flags, fd, offset);
        if (address != Interop.MAP_FAILED) return Errno.None;
        address = 0;
        return Interop.LastErrno;
    }

    /// <summary>mmap(at, length, prot, (MAP_SHARED or MAP_PRIVATE)|MAP_FIXED, fd, offset): over a range this process reserved.</summary>
    internal static Errno TryMapFixed(nint at, long length, int prot, bool shared, SafeFd fd, long offset, bool populate = false)
    {
        int flags = (shared ? Interop.MAP_SHARED : Interop.MAP_PRIVATE) | Interop.MAP_FIXED | (populate ? Interop.MAP_POPULATE : 0);
        return Interop.mmap(at, (nuint)length, prot, flags, fd, offset) == at ? Errno.None : Interop.LastErrno;
    }

    /// <summary>
    /// mmap(at, length, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, fd, offset): part of a reservation made
    /// read-write memory of <paramref name="fd"/>; throws <see cref="ErrnoException"/>.
    /// </summary>
    internal static void MapSharedFixed(nint at, long length, SafeFd fd, long offset)
    {
        if (Interop.mmap(at, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED | Interop.MAP_FIXED, fd, offset) != at)
            throw new ErrnoException(Interop.LastErrno, $"mmap(0x{at:x}, {length}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, {fd}, {offset})");
    }

    /// <summary>
    /// Replaces [at, at+length) by an inaccessible reservation (PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_FIXED),
    /// so that nothing else can be mapped into the hole; throws <see cref="ErrnoException"/>.
    /// </summary>
    internal static void ReplaceWithReservation(nint at, long length)
    {
        nint p = Interop.mmap_anonymous(at, (nuint)length, Interop.PROT_NONE,
            Interop.MAP_PRIVATE | Interop.MAP_ANONYMOUS | Interop.MAP_NORESERVE | Interop.MAP_FIXED, -1, 0);
        if (p != at) throw new ErrnoException(Interop.LastErrno, $"mmap(0x{at:x}, {length}, PROT_NONE, MAP_FIXED|MAP_ANONYMOUS)");
    }

    /// <summary>madvise(address, length, MADV_DONTFORK): a child this process forks does not inherit the range.</summary>
    internal static Errno AdviseDontFork(nint address, long length) =>
        Interop.madvise(address, (nuint)length, Interop.MADV_DONTFORK) == 0 ? Errno.None : Interop.LastErrno;

    /// <summary>munmap(2).</summary>
    internal static Errno Unmap(nint address, long length) =>
        Interop.munmap(address, (nuint)length) == 0 ? Errno.None : Interop.LastErrno;

    /// <summary>mprotect(2).</summary>
    internal static Errno Protect(nint address, long length, int prot) =>
        Interop.mprotect(address, (nuint)length, prot) == 0 ? Errno.None : Interop.LastErrno;

    /// <summary>mlock(2): ENOMEM beyond RLIMIT_MEMLOCK (without CAP_IPC_LOCK), EAGAIN when the OS cannot lock.</summary>
    internal static Errno Lock(nint address, long length) =>
        Interop.mlock(address, (nuint)length) == 0 ? Errno.None : Interop.LastErrno;

    /// <summary>munlock(2).</summary>
    internal static Errno Unlock(nint address, long length) =>
        Interop.munlock(address, (nuint)length) == 0 ? Errno.None : Interop.LastErrno;
}
