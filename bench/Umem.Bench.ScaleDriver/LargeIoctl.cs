namespace Umem.Bench.ScaleDriver;

/// <summary>
/// The ioctl(9E) commands of the scale driver's second node, "large0": cookies of any size in slots, each exported
/// whole or as one page per uid (this file is also compiled into the benchmark and the tests, which issue them).
/// Slot s starts at device offset <c>s * SlotSpan</c>.
/// </summary>
public static class LargeIoctl
{
    /// <summary>The node.</summary>
    public const string NodeName = "large0";

    /// <summary>
    /// ioctl: in = i64 size, i32 DDI_UMEM_* flags, i32 grantPages (0: the allocator's units), u8 pieces (1: each uid
    /// is granted one page of it, see <see cref="Piece"/>); ddi_umem_alloc(9F) into a free slot. rval = the slot;
    /// out = i64 the cookie's grant unit in bytes. ENOMEM when ddi_umem_alloc refuses (with DDI_UMEM_NOSLEEP it
    /// returned NULL; without it the request can never fit), the OS's errno when the OS refused, ENOSPC when every
    /// slot is taken.
    /// </summary>
    public const uint Alloc = 0x5311;

    /// <summary>ioctl: in = i32 slot; ddi_umem_free(9F) (mapped memory stays until its last unmap).</summary>
    public const uint Free = 0x5312;

    /// <summary>ioctl: in = i32 slot, i64 offset; rval = the byte there, read through the cookie's kernel address.</summary>
    public const uint Read = 0x5313;

    /// <summary>ioctl: in = i32 slot, i64 offset, u8 value; written through the cookie's kernel address.</summary>
    public const uint Write = 0x5314;

    /// <summary>Bytes of device offsets per slot (64 GiB).</summary>
    public const long SlotSpan = 1L << 36;

    /// <summary>Slots.</summary>
    public const int Slots = 16;

    /// <summary>
    /// In a pieces slot the device has one page, at the slot's offset 0: page <c>uid % pages</c> of the cookie, so
    /// processes of different uids get different pages, as the seed's xx gives 64- and 32-bit processes different pages.
    /// </summary>
    public static long Piece(uint uid, long cookiePages) => uid % cookiePages;
}
