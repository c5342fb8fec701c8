using System.Buffers.Binary;

namespace Umem.Samples;

/// <summary>
/// Checks the stream of ring messages as it arrives in arbitrary pieces: each message must be the next in
/// sequence, carry the payload pattern of its number and a correct checksum. Counts messages, bytes, errors.
/// </summary>
internal sealed class MessageChecker
{
    private readonly List<byte> _pending = [];
    private long _nextSeq;

    public long Messages { get; private set; }

    public long Bytes { get; private set; }

    public ulong Fnv { get; private set; } = RingMessage.Fnv64Basis;

    public long Errors { get; private set; }

    public string? FirstError { get; private set; }

    public void Add(ReadOnlySpan<byte> data)
    {
        Bytes += data.Length;
        Fnv = RingMessage.Fnv64(Fnv, data);
        _pending.AddRange(data);
        int consumed = 0;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending);
        while (span.Length - consumed >= 8)
        {
            var rest = span[consumed..];
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            if (length < 0 || length > RingMessage.MaxPayload)
            {
                Fail($"message at byte {Bytes - span.Length + consumed} claims {length} payload bytes");
                _pending.Clear();   // the stream cannot be resynchronised
                return;
            }
            if (rest.Length < length + RingMessage.Overhead) break;
            Check(rest[..(length + RingMessage.Overhead)], length);
            consumed += length + RingMessage.Overhead;
        }
        _pending.RemoveRange(0, consumed);
    }

    /// <summary>The stream ended: a partial message left over is an error.</summary>
    public void Finish()
    {
        if (_pending.Count != 0) Fail($"the stream ended inside a message ({_pending.Count} bytes left over)");
    }

    private void Check(ReadOnlySpan<byte> message, int length)
    {
        uint seq = BinaryPrimitives.ReadUInt32LittleEndian(message);
        uint sum = BinaryPrimitives.ReadUInt32LittleEndian(message[(8 + length)..]);
        if (seq != (uint)_nextSeq)
            Fail($"message {Messages}: sequence {seq}, expected {(uint)_nextSeq}");
        else if (RingMessage.Fnv32(message[..(8 + length)]) != sum)
            Fail($"message {seq}: checksum mismatch");
        else
        {
            for (int i = 0; i < length; i++)
            {
                if (message[8 + i] != RingMessage.PayloadByte(seq, i))
                {
                    Fail($"message {seq}: payload byte {i} is {message[8 + i]}, expected {RingMessage.PayloadByte(seq, i)}");
                    break;
                }
            }
        }
        _nextSeq++;
        Messages++;
    }

    private void Fail(string why)
    {
        Errors++;
        FirstError ??= why;
    }
}
