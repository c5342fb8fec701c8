using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// The memory behind a cookie: address space reserved once, with one sealed memfd per grant unit mapped
/// MAP_SHARED|MAP_FIXED over it, so the driver sees one contiguous, page-aligned range while each unit stays
/// a separate memfd that can be handed to a process alone (backing of one memfd is simply mapped where the
/// kernel chooses). Locked backing is mlock'ed for its whole life.
/// </summary>
/// <remarks>
/// Every unit costs the host one fd and one mapping (VMA) for the backing's life, and a process that maps a range
/// one mmap per unit. So units are not pages by default: <see cref="AutoGrantBytes"/> gives a cookie at most
/// <see cref="MaxAutoUnits"/> of them, whatever its size, and a driver that exports finer pieces asks for them.
/// </remarks>
internal sealed class UmemBacking : IDisposable
{
    private readonly MappedRegion _region;
    private int _everGranted;

    private UmemBacking(MappedRegion region, long size, long grantBytes, bool locked, UmemExtent[] extents)
    {
        _region = region;
        Size = size;
        GrantBytes = grantBytes;
        Locked = locked;
        Extents = extents;
        ShapeNode = new LinkedListNode<UmemBacking>(this);
        AgeNode = new LinkedListNode<UmemBacking>(this);
    }

    /// <summary>This backing's place among cached backing of its shape (used by <see cref="BackingCache"/> only).</summary>
    internal LinkedListNode<UmemBacking> ShapeNode { get; }

    /// <summary>This backing's place in the cache's eviction order (used by <see cref="BackingCache"/> only).</summary>
    internal LinkedListNode<UmemBacking> AgeNode { get; }

    internal nint Address => _region.Address;

    internal long Size { get; }

    /// <summary>Bytes per extent (the last one may be shorter).</summary>
    internal long GrantBytes { get; }

    internal bool Locked { get; }

    internal UmemExtent[] Extents { get; }

    /// <summary>True once any extent's fd was given to another process: then this backing is never reused.</summary>
    internal bool EverGranted => Volatile.Read(ref _everGranted) != 0;

    internal void MarkGranted() => Volatile.Write(ref _everGranted, 1);

    /// <summary>
    /// Pageable backing up to this size is re-zeroed by clearing it in place, larger backing by punching its pages
    /// out. Clearing keeps the pages resident, so the next user pays no page faults, but it writes every page,
    /// touched or not; punching frees the pages and the next user faults fresh zero pages in, which measured about
    /// 20 times the cost of a clear per page (bench/README.md, ZeroingBenchmarks). Up to this size the cache's
    /// capacity is what bounds the resident memory; above it, large sparse backing is not faulted in just to be
    /// zeroed.
    /// </summary>
    internal const long ClearLimitBytes = 1024 * 1024;

    /// <summary>
    /// Most memfds a cookie gets when its driver leaves the grant unit to the allocator. Up to this many pages a
    /// cookie is granted by page, as the seed's driver needs (two pages, one per data model); above, its units are
    /// the smallest power-of-two number of pages that keeps it within this many memfds: a 1 MiB cookie has 64
    /// units of 16 KiB, a 4 GiB one 64 of 64 MiB. 64 memfds fit one SCM_RIGHTS message (at most 253 fds), cost a
    /// whole-cookie mmap ~64 × 5.5 µs in the client, and let 150 such cookies fit half of 20,000 fds.
    /// </summary>
    internal const int MaxAutoUnits = 64;

    /// <summary>The grant unit of a cookie of <paramref name="size"/> bytes (whole pages) whose driver did not choose one.</summary>
    internal static long AutoGrantBytes(long size)
    {
        long pages = SystemPage.BytesToPages(size);
        long unitPages = 1;
        while ((pages + unitPages - 1) / unitPages > MaxAutoUnits) unitPages <<= 1;
        return SystemPage.PagesToBytes(unitPages);
    }

    /// <summary>Memfds (and host mappings) of backing of <paramref name="size"/> bytes in units of <paramref name="grantBytes"/>.</summary>
    internal static long UnitCount(long size, long grantBytes) => (size + grantBytes - 1) / grantBytes;

    /// <summary>
    /// Creates zero-filled backing; ENOMEM/EAGAIN from mlock mean the OS refused to lock it. Every failure gives
    /// back all it made (fds, mapping, lock) and is an <see cref="ErrnoException"/>: a runtime that runs out of
    /// memory while the OS refuses (building the error, say) is reported as ENOMEM, not as an exception no driver
    /// expects from ddi_umem_alloc.
    /// </summary>
    internal static UmemBacking Create(string name, long size, long grantBytes, bool locked)
    {
        int count = (int)UnitCount(size, grantBytes);
        var extents = new UmemExtent[count];
        MappedRegion? region = null;
        int made = 0;
        try
        {
            if (count == 1)
            {
                // One memfd: map it where the kernel likes, with no address space to reserve first.
                SafeFd fd = MemFd.CreateSealed(name, size);
                extents[made] = new UmemExtent(fd, 0, size);
                region = MappedRegion.MapShared(fd, 0, size, writable: true);
                made = 1;
            }
            else
            {
                region = MappedRegion.Reserve(size);
                for (; made < count; made++)
                {
                    long off = made * grantBytes;
                    long len = Math.Min(grantBytes, size - off);
                    SafeFd fd = MemFd.CreateSealed(name, len);
                    extents[made] = new UmemExtent(fd, off, len);
                    AddressSpace.MapSharedFixed(region.Address + (nint)off, len, fd, 0);
                }
            }
            // Driver memory must not leak into a child the host forks (a helper process, say).
            _ = AddressSpace.AdviseDontFork(region.Address, size);
            // ddi_umem_alloc(9F): without DDI_UMEM_PAGEABLE the memory is locked; mlock also faults every page in.
            if (locked && AddressSpace.Lock(region.Address, size) is var e && e != Errno.None)
                throw new ErrnoException(e, $"mlock(0x{region.Address:x}, {size})");
            return new UmemBacking(region, size, grantBytes, locked, extents);
        }
        catch (OutOfMemoryException)
        {
            GiveBack(region, extents);
            throw new ErrnoException(Errno.ENOMEM, "ddi_umem_alloc", "the host ran out of memory while making the backing");
        }
        catch
        {
            GiveBack(region, extents);
            throw;
        }
    }

    /// <summary>A half-built backing gives back what it holds: the mapping (and any lock with it), then the fds.</summary>
    private static void GiveBack(MappedRegion? region, UmemExtent[] extents)
    {
        region?.Dispose();
        for (int i = 0; i < extents.Length && extents[i] is { } e; i++) e.Fd.Dispose();
    }

    internal unsafe Span<byte> GetSpan(long offset, int length) =>
        new((byte*)Address + offset, length);

    /// <summary>
    /// Returns the backing to all zeros (ddi_umem_alloc(9F): memory is always zero-filled, reused or not). Locked
    /// and small pageable backing is cleared in place (its pages stay resident, locked ones stay locked); larger
    /// pageable backing has its pages punched out, which frees them.
    /// </summary>
    internal void Zero()
    {
        if (Locked || Size <= ClearLimitBytes) Clear();
        else Punch();
    }

    /// <summary>Writes zeros over every page.</summary>
    internal void Clear()
    {
        const int Chunk = 1 << 30;
        for (long off = 0; off < Size; off += Chunk)
            GetSpan(off, (int)Math.Min(Size - off, Chunk)).Clear();
    }

    /// <summary>
    /// Frees every page of every memfd; the mapping then reads zeros. One fallocate(PUNCH_HOLE) per memfd: a
    /// single madvise(MADV_REMOVE) over the range measured no faster (within noise) when it spans many memfds.
    /// </summary>
    internal void Punch()
    {
        foreach (var e in Extents) MemFd.PunchHole(e.Fd, 0, e.Length);
    }

    /// <summary>The extents that make up [offset, offset+length), or false when the range does not begin and end on extent boundaries.</summary>
    internal bool TryGetExtents(long offset, long length, out ArraySegment<UmemExtent> extents)
    {
        extents = default;
        if (offset < 0 || length <= 0 || offset + length > Size || offset % GrantBytes != 0)
            return false;
        long end = offset + length;
        if (end != Size && end % GrantBytes != 0)
            return false;
        int first = (int)(offset / GrantBytes);
        int last = (int)((end - 1) / GrantBytes);
        extents = new ArraySegment<UmemExtent>(Extents, first, last - first + 1);
        return true;
    }

    public void Dispose()
    {
        // munmap drops the lock, if any, with the mapping.
        _region.Dispose();
        foreach (var e in Extents) e.Fd.Dispose();
    }
}
