using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// One successful mmap(2) of a device node: the devmap handles (regions) that cover it, who asked, and with what.
/// The memory of every region stays alive (a cookie reference per handle) until that region is unmapped, even if
/// the driver frees the cookie first. Thread-safe; unmaps of one mapping are serialised (illumos holds the address
/// space lock across segdev_unmap and the driver's callbacks).
/// </summary>
public sealed class DeviceMapping : IDisposable
{
    private static readonly Dictionary<MappingState, MappingState[]> s_transitions = new()
    {
        [MappingState.Mapped] = [MappingState.PartiallyUnmapped, MappingState.Unmapped],
        [MappingState.PartiallyUnmapped] = [MappingState.PartiallyUnmapped, MappingState.Unmapped],
    };

    // A host holds hundreds of thousands of mappings, and every object each keeps is one more for a collection to
    // mark and copy: a mapping is this object and one devmap handle per region (no Lock, no list, no state-machine
    // object, no closure, no map request kept; issue 13). So the mapping locks itself: drivers never see it, and
    // the host locks no mapping of its own.
    private RegionList _handles;
    private StateMachine<MappingState> _state;

    internal DeviceMapping(long id, DeviceFile file, long offset, long length, Prot prot, MapFlags flags, List<DevmapHandle> handles)
    {
        Id = id;
        File = file;
        Offset = offset;
        Length = length;
        Prot = prot;
        Flags = flags;
        _handles = new RegionList(handles);
        MappedAt = DateTimeOffset.UtcNow;
        _state = new StateMachine<MappingState>(MappingState.Mapped, s_transitions, this, static m => $"mapping {((DeviceMapping)m).Id}");
    }

    /// <summary>A number unique in the host (the protocol's <c>mapping</c>).</summary>
    public long Id { get; }

    /// <summary>The open file the mapping was made through.</summary>
    public DeviceFile File { get; }

    /// <summary>The node mapped.</summary>
    public MinorNode Node => File.Node;

    /// <summary>Who mapped it.</summary>
    public Cred Cred => File.Cred;

    /// <summary>The device offset the mapping starts at.</summary>
    public long Offset { get; }

    /// <summary>The mapping's length in bytes (whole pages).</summary>
    public long Length { get; }

    /// <summary>The protection asked for (PROT_READ/WRITE/EXEC; the framework added PROT_USER).</summary>
    public Prot Prot { get; }

    /// <summary>MAP_SHARED or MAP_PRIVATE.</summary>
    public MapFlags Flags { get; }

    /// <summary>When it was mapped.</summary>
    public DateTimeOffset MappedAt { get; }

    /// <summary>Mapped, partially unmapped or unmapped.</summary>
    public MappingState State
    {
        get
        {
            lock (this) return _state.State;
        }
    }

    /// <summary>How many segments (memfd runs) <see cref="GetSegments"/> would return, counted without building them.</summary>
    public int SegmentCount
    {
        get
        {
            lock (this)
            {
                int n = 0;
                for (int i = 0; i < _handles.Count; i++)
                {
                    var h = _handles[i];
                    long kStart = h.KernelOffset, kEnd = kStart + h.Length;
                    foreach (var extent in h.Cookie!.Backing.Extents)
                        if (extent.Offset + extent.Length > kStart && extent.Offset < kEnd) n++;
                }
                return n;
            }
        }
    }

    /// <summary>
    /// The live regions in order as segments: for each grant unit (memfd) a region covers, where it sits in the
    /// mapping, its memfd and offset in it, and the region's effective maxprot (without PROT_USER). The fds belong to
    /// the driver's memory: valid while that part of the mapping exists; use <see cref="Export"/> to hand them to
    /// another process.
    /// </summary>
    public IReadOnlyList<MappingSegment> GetSegments()
    {
        lock (this) return BuildSegments();
    }

    /// <summary>
    /// Prepares the mapping for another process: marks the memory as granted (it is never reused once another
    /// process may hold its fd), and gives each segment the descriptor that grants exactly what the mapping may
    /// ever do (segdev_setprot allows an mprotect up to the region's maxprot, never beyond): the memfd itself only
    /// for a shared mapping of a region whose maxprot has PROT_WRITE through a file open for writing; otherwise a
    /// fresh O_RDONLY descriptor, checked to be one, which the receiving process cannot map writable and shared.
    /// Dispose the export once the descriptors are sent: the receiver holds its own copies, and the memory stays
    /// alive through the mapping's regions until they are unmapped.
    /// </summary>
    /// <exception cref="ErrnoException">EBADF when the mapping is already unmapped; EIO when a reopened descriptor
    /// is not read-only; the errno of reopening a memfd (EMFILE, ENFILE).</exception>
    public MappingExport Export()
    {
        List<MappingSegment> segments;
        List<UmemCookie> held;
        lock (this)
        {
            held = new(_handles.Count);
            if (_state.State == MappingState.Unmapped)
                throw new ErrnoException(Errno.EBADF, $"export(mapping {Id})", "the mapping is unmapped");
            segments = BuildSegments();
            // The export's own references: its fds stay valid even if the mapping is unmapped while it is sent.
            for (int i = 0; i < _handles.Count; i++)
            {
                var h = _handles[i];
                h.Cookie!.AddHeldReference();
                held.Add(h.Cookie);
            }
        }

        var exported = new List<ExportedSegment>(segments.Count);
        var owned = new List<SafeFd>();
        try
        {
            foreach (var c in held) c.Backing.MarkGranted();
            // smmap_common: a shared mapping of a file not open for writing has no PROT_WRITE in its maxprot. A
            // private mapping's writes are the receiver's own copies, so it never needs a writable descriptor.
            bool sharedWritable = Flags == MapFlags.Shared && (File.Flags & OpenFlags.Write) != 0;
            foreach (var s in segments)
            {
                bool writable = sharedWritable && (s.MaxProt & Prot.Write) != 0;
                SafeFd fd = s.Fd;
                if (!writable)
                {
                    fd = MemFd.ReopenReadOnly(s.Fd);
                    owned.Add(fd);
                    if (!MemFd.IsReadOnly(fd))
                        throw new ErrnoException(Errno.EIO, $"export(mapping {Id})", $"the reopened descriptor of segment at {s.Offset} is not O_RDONLY");
                }
                Prot maxProt = Flags == MapFlags.Shared && !writable ? s.MaxProt & ~Prot.Write : s.MaxProt;
                exported.Add(new ExportedSegment(s.Offset, s.Length, fd, s.FdOffset, maxProt, !writable));
            }
        }
        catch
        {
            foreach (var fd in owned) fd.Dispose();
            foreach (var c in held) c.Release();
            throw;
        }
        return new MappingExport(Id, exported, owned, held);
    }

    /// <summary>
    /// munmap(2) of <c>[offset, offset+length)</c> of the mapping (offsets inside the mapping, page-aligned). Each
    /// region it touches gets the driver's devmap_unmap(9E) as segdev_unmap calls it: the whole region, its head,
    /// its tail, or a hole that splits it in two. Parts already unmapped are skipped.
    /// </summary>
    /// <exception cref="ErrnoException">EINVAL for a range that is unaligned, empty or outside the mapping; EBADF once unmapped.</exception>
    public void Unmap(long offset, long length)
    {
        string Call() => $"munmap(mapping {Id}, off=0x{offset:x}, len={length})";
        if (length <= 0 || offset < 0 || !SystemPage.IsAligned(offset) || !SystemPage.IsAligned(length))
            throw new ErrnoException(Errno.EINVAL, Call(), "offset and length must be page-aligned and length positive");
        if (offset > Length - length)
            throw new ErrnoException(Errno.EINVAL, Call(), $"the range is outside the mapping's {Length} bytes");
        if (!UnmapCore(offset, length))
            throw new ErrnoException(Errno.EBADF, Call(), "the mapping is already unmapped");
    }

    /// <summary>
    /// segdev_dup for an inheriting process: a copy of every live handle (each with a cookie reference of its own),
    /// each passed to the driver's devmap_dup(9E) in order with <paramref name="child"/> as curproc. A failing
    /// callback (nonzero, or a throw: EIO) unmaps the copies already made (their devmap_unmap(9E)) and fails with
    /// the driver's errno. The original mapping is not changed.
    /// </summary>
    /// <exception cref="ErrnoException">EBADF once unmapped; the errno devmap_dup(9E) returned.</exception>
    internal List<DevmapHandle> DupHandles(UmemProcess? child)
    {
        var module = File.Module;
        var copies = new List<DevmapHandle>();
        using (UmemProcess.EnterIfAny(child))
            lock (this)
            {
                if (_state.State == MappingState.Unmapped)
                    throw new ErrnoException(Errno.EBADF, $"devmap_dup(mapping {Id})", "the mapping is unmapped");
                for (int i = 0; i < _handles.Count; i++)
                {
                    var dhp = _handles[i];
                    var copy = dhp.Dup();
                    copies.Add(copy);
                    if (dhp.Callbacks?.Dup is not { } dup) continue;
                    Errno rc;
                    try
                    {
                        rc = dup(dhp, dhp.Pvtp, copy, out copy.Pvtp);
                    }
                    catch (Exception e)
                    {
                        module.ReportException("devmap_dup(9E)", e);
                        rc = Errno.EIO;
                    }
                    if (rc == Errno.None) continue;
                    copies.RemoveAt(copies.Count - 1);
                    copy.Free();
                    foreach (var done in copies)
                    {
                        DevmapFramework.CallUnmap(module, done, done.Offset, done.Length, null, null);
                        done.Free();
                    }
                    throw DriverErrno.Exception(rc, $"devmap_dup(mapping {Id}, {dhp})", "devmap_dup(9E)");
                }
            }
        return copies;
    }

    /// <summary>Unmaps whatever is left (as the end of the application's connection does). Idempotent.</summary>
    public void Dispose() => UnmapCore(0, Length);

    /// <summary>A snapshot for pmap-style listings.</summary>
    public MappingInfo GetInfo()
    {
        lock (this)
        {
            var regions = _handles.ToArray().Select(h => new RegionInfo(h.MappingOffset, h.Length, h.Offset,
                h.Cookie?.Id ?? 0, h.KernelOffset, h.MaxProt & ~Prot.User, GrantUnits(h))).ToArray();
            return new MappingInfo(Id, File.Module.Name, Node.Name, File.Dev, Cred, Offset, Length, Prot, Flags, _state.State, MappedAt, regions);
        }
    }

    /// <summary>The grant units (memfds) of its cookie that handle <paramref name="h"/> spans.</summary>
    private static int GrantUnits(DevmapHandle h)
    {
        if (h.Cookie is not { GrantBytes: > 0 } c || h.Length <= 0) return 0;
        return (int)(((h.KernelOffset + h.Length - 1) / c.GrantBytes) - (h.KernelOffset / c.GrantBytes) + 1);
    }

    /// <summary>The live handles, in order (tests and diagnostics).</summary>
    internal IReadOnlyList<DevmapHandle> Handles
    {
        get
        {
            lock (this) return _handles.ToArray();
        }
    }

    private bool UnmapCore(long offset, long length)
    {
        var module = File.Module;
        bool nowEmpty;
        using (UmemProcess.EnterIfAny(File.Process)) // the unmap callbacks run for the mapping's process
            lock (this)
            {
                if (_state.State == MappingState.Unmapped) return false;
                long a = offset, b = offset + length;
                bool touched = false;
                for (int i = 0; i < _handles.Count; i++)
                {
                    var dhp = _handles[i];
                    long h0 = dhp.MappingOffset, h1 = h0 + dhp.Length;
                    if (h1 <= a || h0 >= b) continue;
                    touched = true;
                    if (a <= h0 && b >= h1)
                    {
                        // The whole handle: (dhp, pvtp, dh_uoff, dh_len, NULL, NULL, NULL, NULL), then free it.
                        DevmapFramework.CallUnmap(module, dhp, dhp.Offset, dhp.Length, null, null);
                        dhp.Free();
                        _handles.RemoveAt(i--);
                    }
                    else if (a <= h0)
                    {
                        // The head: (dhp, pvtp, dh_uoff, len, NULL, NULL, dhp, &dhp->dh_pvtp); the handle then starts later.
                        long mlen = b - h0;
                        DevmapFramework.CallUnmap(module, dhp, dhp.Offset, mlen, null, dhp);
                        dhp.ReduceHead(mlen);
                    }
                    else if (b >= h1)
                    {
                        // The tail: (dhp, pvtp, off, len, dhp, &dhp->dh_pvtp, NULL, NULL); the handle then ends at off.
                        long mlen = h1 - a;
                        DevmapFramework.CallUnmap(module, dhp, dhp.Offset + (a - h0), mlen, dhp, null);
                        dhp.TruncateTo(a - h0);
                    }
                    else
                    {
                        // A hole: the new handle is a copy of the old (bcopy) that will start after the hole;
                        // (dhp, pvtp, off, len, dhp, &dhp->dh_pvtp, newdhp, &newdhp->dh_pvtp).
                        var newDhp = dhp.Split();
                        DevmapFramework.CallUnmap(module, dhp, dhp.Offset + (a - h0), length, dhp, newDhp);
                        newDhp.ReduceHead(b - h0);
                        dhp.TruncateTo(a - h0);
                        _handles.Insert(++i, newDhp);
                    }
                }
                nowEmpty = _handles.Count == 0;
                if (touched || nowEmpty) _state.MoveTo(nowEmpty ? MappingState.Unmapped : MappingState.PartiallyUnmapped);
            }
        if (nowEmpty) File.OnMappingGone(this);
        return true;
    }

    private List<MappingSegment> BuildSegments()
    {
        var segments = new List<MappingSegment>();
        for (int i = 0; i < _handles.Count; i++)
        {
            var h = _handles[i];
            var backing = h.Cookie!.Backing;
            long kStart = h.KernelOffset, kEnd = kStart + h.Length;
            foreach (var extent in backing.Extents)
            {
                long eEnd = extent.Offset + extent.Length;
                if (eEnd <= kStart || extent.Offset >= kEnd) continue;
                long s = Math.Max(kStart, extent.Offset), e = Math.Min(kEnd, eEnd);
                segments.Add(new MappingSegment(h.MappingOffset + (s - kStart), e - s, extent.Fd, s - extent.Offset, h.MaxProt & ~Prot.User));
            }
        }
        return segments;
    }

    public override string ToString() => $"mapping {Id} of {Node.Name} ({Length} bytes at 0x{Offset:x}, {Prot.ToLetters()}, {_state.State})";
}
