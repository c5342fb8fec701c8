using System.Buffers.Binary;
using Umem.Bench.ScaleDriver;
using Umem.Client;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Large;

/// <summary>
/// The scale driver's "large0" node from the application side: its <see cref="LargeIoctl"/> commands through the
/// client library (also compiled into the tests).
/// </summary>
internal static class LargeDevice
{
    /// <summary>ddi_umem_alloc(9F) in the driver; the slot and the cookie's grant unit, or the driver's errno.</summary>
    internal static Errno TryAlloc(UmemDevice device, long size, UmemFlags flags, out int slot, out long grantBytes, int grantPages = 0, bool pieces = false)
    {
        Span<byte> input = stackalloc byte[17];
        BinaryPrimitives.WriteInt64LittleEndian(input, size);
        BinaryPrimitives.WriteInt32LittleEndian(input[8..], (int)flags);
        BinaryPrimitives.WriteInt32LittleEndian(input[12..], grantPages);
        input[16] = pieces ? (byte)1 : (byte)0;
        Span<byte> output = stackalloc byte[8];
        slot = -1;
        grantBytes = 0;
        try
        {
            slot = device.Ioctl(LargeIoctl.Alloc, input, output).Rval;
        }
        catch (ErrnoException e)
        {
            return e.Errno;
        }
        grantBytes = BinaryPrimitives.ReadInt64LittleEndian(output);
        return Errno.None;
    }

    /// <summary>ddi_umem_alloc(9F) in the driver that must succeed; the slot.</summary>
    internal static int Alloc(UmemDevice device, long size, UmemFlags flags, int grantPages = 0, bool pieces = false)
    {
        Errno e = TryAlloc(device, size, flags, out int slot, out _, grantPages, pieces);
        return e == Errno.None ? slot : throw new ErrnoException(e, $"large0 alloc of {size} bytes ({flags})");
    }

    /// <summary>ddi_umem_free(9F) of the slot's cookie.</summary>
    internal static void Free(UmemDevice device, int slot)
    {
        Span<byte> input = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(input, slot);
        device.Ioctl(LargeIoctl.Free, input, []);
    }

    /// <summary>The byte at <paramref name="offset"/> of the slot's cookie, read by the driver through its kernel address.</summary>
    internal static byte Read(UmemDevice device, int slot, long offset) => (byte)device.Ioctl(LargeIoctl.Read, Args(slot, offset, 0).AsSpan(0, 12), []).Rval;

    /// <summary>The driver writes <paramref name="value"/> at <paramref name="offset"/> of the slot's cookie.</summary>
    internal static void Write(UmemDevice device, int slot, long offset, byte value) => device.Ioctl(LargeIoctl.Write, Args(slot, offset, value), []);

    /// <summary>The device offset where the slot's memory starts.</summary>
    internal static long Offset(int slot) => slot * LargeIoctl.SlotSpan;

    private static byte[] Args(int slot, long offset, byte value)
    {
        var input = new byte[13];
        BinaryPrimitives.WriteInt32LittleEndian(input, slot);
        BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(4), offset);
        input[12] = value;
        return input;
    }
}
