using System.Buffers.Binary;

namespace Umem.Samples;

/// <summary>
/// The samples' message format on the ring: u32 sequence number, u32 payload length, the payload (a pattern
/// derived from the sequence number), u32 FNV-1a checksum of everything before it. Little-endian.
/// </summary>
internal static class RingMessage
{
    /// <summary>Bytes around the payload: sequence, length, checksum.</summary>
    internal const int Overhead = 12;

    /// <summary>The largest payload a message may claim; a larger length is a corrupt stream.</summary>
    internal const int MaxPayload = 1 << 20;

    /// <summary>The payload length of message <paramref name="seq"/>: 1..<paramref name="maxPayload"/>, varying.</summary>
    internal static int PayloadLength(long seq, int maxPayload) => 1 + (int)((seq * 37) % maxPayload);

    /// <summary>Byte <paramref name="index"/> of message <paramref name="seq"/>'s payload.</summary>
    internal static byte PayloadByte(long seq, int index) => unchecked((byte)((seq * 31) + (index * 7) + 1));

    /// <summary>Writes message <paramref name="seq"/> to <paramref name="destination"/>; returns its length.</summary>
    internal static int Encode(long seq, int payloadLength, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)seq);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)payloadLength);
        for (int i = 0; i < payloadLength; i++) destination[8 + i] = PayloadByte(seq, i);
        int end = 8 + payloadLength;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[end..], Fnv32(destination[..end]));
        return end + 4;
    }

    /// <summary>FNV-1a, 32 bits: the per-message checksum.</summary>
    internal static uint Fnv32(ReadOnlySpan<byte> data)
    {
        uint h = 2166136261;
        foreach (byte b in data) h = unchecked((h ^ b) * 16777619);
        return h;
    }

    /// <summary>FNV-1a, 64 bits, continued from <paramref name="h"/>: the whole stream's hash in the summaries.</summary>
    internal static ulong Fnv64(ulong h, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) h = unchecked((h ^ b) * 1099511628211);
        return h;
    }

    /// <summary>The FNV-1a 64 offset basis.</summary>
    internal const ulong Fnv64Basis = 14695981039346656037;

    /// <summary>The ring driver's area: its 1 MiB capacity and the bytes to map (header and data, whole pages).</summary>
    internal const int Capacity = 1 << 20;

    /// <summary>
    /// The bytes <paramref name="messages"/> messages of up to <paramref name="maxPayload"/> take, counted only until
    /// they exceed <paramref name="limit"/> (a huge count need not be walked to know it does not fit).
    /// </summary>
    internal static long StreamLength(long messages, int maxPayload, long limit)
    {
        long total = 0;
        for (long s = 0; s < messages && total <= limit; s++) total += Overhead + PayloadLength(s, maxPayload);
        return total;
    }

    /// <summary>SharedRing's header before the data.</summary>
    internal static long MapLength(int pageSize) => (Umem.Client.Sync.SharedRing.RingLength(Capacity) + pageSize - 1) / pageSize * pageSize;
}
