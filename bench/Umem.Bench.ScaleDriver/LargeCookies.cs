using System.Buffers.Binary;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Bench.ScaleDriver;

/// <summary>
/// The "large0" node of the scale driver: cookies of any size that applications allocate and free through ioctl(9E)
/// (<see cref="LargeIoctl"/>) and map whole, or one page per uid. What a frame-buffer or capture driver does with one
/// large ddi_umem_alloc(9F), made measurable: alloc, map, touch, unmap and free through the real host.
/// </summary>
internal sealed class LargeCookies(ModuleAllocator allocator)
{
    private readonly Lock _gate = new();
    private readonly Slot?[] _slots = new Slot?[LargeIoctl.Slots];

    private sealed record Slot(UmemCookie Cookie, bool Pieces);

    /// <summary>ddi_umem_free(9F) of every cookie still held (detach).</summary>
    public void FreeAll()
    {
        lock (_gate)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                if (_slots[i] is { } s) allocator.Free(s.Cookie);
                _slots[i] = null;
            }
        }
    }

    /// <summary>devmap(9E): the slot's cookie from the offset asked, or, in a pieces slot, the caller's own page.</summary>
    public Errno Devmap(DevmapHandle dhp, long off, long len, out long maplen)
    {
        maplen = 0;
        if (off < 0 || len <= 0) return Errno.ENXIO;
        long index = off / LargeIoctl.SlotSpan, within = off % LargeIoctl.SlotSpan;
        Slot? slot;
        lock (_gate) slot = index < _slots.Length ? _slots[index] : null;
        if (slot is null) return Errno.ENXIO;
        long koff = within;
        if (slot.Pieces)
        {
            // One page, chosen by who asks (curproc's uid), never by the offset: no request reaches another's page.
            if (within != 0 || len > Ptob(1) || UmemProcess.Current is not { } curproc) return Errno.ENXIO;
            koff = Ptob(LargeIoctl.Piece(curproc.Cred.Uid, Btop(slot.Cookie.Size)));
        }
        else if (within + len > slot.Cookie.Size)
        {
            return Errno.ENXIO;
        }
        // A file open read-only gets a read-only grant (devmap_umem_setup(9F): maxprot must cover dh_prot).
        Prot maxprot = (dhp.MaxProt & Prot.Write) != 0 ? Prot.All : Prot.Read | Prot.User;
        // devmap_umem_setup(9F) refuses a range that does not fall on the cookie's grant units (it never widens one).
        if (DevmapUmemSetup(dhp, null, null, slot.Cookie, koff, len, maxprot, DevmapFlags.Defaults, null) != DdiResult.Success)
            return Errno.EINVAL;
        maplen = len;
        return Errno.None;
    }

    /// <summary>ioctl(9E): the <see cref="LargeIoctl"/> commands.</summary>
    public Errno Ioctl(uint cmd, ref IoctlBuffer arg, out int rval)
    {
        rval = 0;
        Span<byte> input = stackalloc byte[17];
        input = input[..Math.Min(input.Length, arg.Input.Length)];
        if (arg.CopyIn(input) != 0) return Errno.EFAULT;
        if (cmd == LargeIoctl.Alloc) return Alloc(input, ref arg, out rval);
        if (input.Length < 4) return Errno.EINVAL;
        int index = BinaryPrimitives.ReadInt32LittleEndian(input);
        Slot? slot;
        lock (_gate)
        {
            slot = (uint)index < (uint)_slots.Length ? _slots[index] : null;
            if (slot is null) return Errno.EINVAL;
            if (cmd == LargeIoctl.Free)
            {
                _slots[index] = null;
                allocator.Free(slot.Cookie);
                return Errno.None;
            }
        }
        if (input.Length < 12) return Errno.EINVAL;
        long offset = BinaryPrimitives.ReadInt64LittleEndian(input[4..]);
        if (offset < 0 || offset >= slot.Cookie.Size) return Errno.EINVAL;
        switch (cmd)
        {
            case LargeIoctl.Read:
                rval = slot.Cookie.GetSpan(offset, 1)[0];
                return Errno.None;
            case LargeIoctl.Write when input.Length >= 13:
                slot.Cookie.GetSpan(offset, 1)[0] = input[12];
                return Errno.None;
            default:
                return Errno.EINVAL;
        }
    }

    private Errno Alloc(scoped ReadOnlySpan<byte> input, ref IoctlBuffer arg, out int rval)
    {
        rval = -1;
        if (input.Length < 17) return Errno.EINVAL;
        long size = BinaryPrimitives.ReadInt64LittleEndian(input);
        var flags = (UmemFlags)BinaryPrimitives.ReadInt32LittleEndian(input[8..]);
        int grantPages = BinaryPrimitives.ReadInt32LittleEndian(input[12..]);
        bool pieces = input[16] != 0;
        if (size <= 0 || grantPages < 0 || (flags & ~(UmemFlags.NoSleep | UmemFlags.Pageable)) != 0) return Errno.EINVAL;
        UmemCookie? cookie;
        if ((flags & UmemFlags.NoSleep) != 0)
        {
            // ddi_umem_alloc(9F) with DDI_UMEM_NOSLEEP returns NULL when memory is not available now.
            if (!allocator.TryAlloc(size, flags, out cookie, grantPages)) return Errno.ENOMEM;
        }
        else
        {
            try
            {
                // Outside the lock: a SLEEP request may wait for another slot's free.
                cookie = allocator.Alloc(size, flags, grantPages);
            }
            catch (ErrnoException e)
            {
                return e.Errno; // ENOMEM: it can never fit the budget; or what the OS said
            }
        }
        lock (_gate)
        {
            int free = Array.IndexOf(_slots, null);
            if (free >= 0) _slots[free] = new Slot(cookie, pieces);
            rval = free;
        }
        if (rval < 0)
        {
            allocator.Free(cookie);
            return Errno.ENOSPC;
        }
        Span<byte> grant = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(grant, cookie.GrantBytes);
        return arg.CopyOut(grant) == 0 ? Errno.None : Errno.EFAULT;
    }
}
