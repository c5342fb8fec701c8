using System.Buffers.Binary;
using Umem.Platform;

namespace Umem.Fuzz;

/// <summary>
/// Deterministic mutations for the random run (no coverage feedback; AFL does better with SharpFuzz): bit flips,
/// interesting bytes and integers at random or header offsets, inserted, deleted and repeated runs, splices of
/// two inputs, and for text the characters the parsers split on.
/// </summary>
public sealed class Mutator(Random random)
{
    private static readonly ulong[] s_interesting =
    [
        0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x4000, 0x8000, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFF, 0x1_0000_0000, (ulong)SystemPage.Size, (ulong)SystemPage.Size - 1, 60000, 60001, 65536, 65535,
        long.MaxValue, 0x8000_0000_0000_0000, ulong.MaxValue, 0x4D454D55,
    ];

    private static readonly byte[] s_textBytes = [.. ":,;()=!*#\n\r \t-0123456789.KMGTkmgtx"u8, 0, 0xC3, 0xFF];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus, bool text)
    {
        var data = new List<byte>(input);
        int rounds = 1 + random.Next(random.Next(2) == 0 ? 2 : 8);
        for (int i = 0; i < rounds; i++) MutateOnce(data, corpus, text);
        return [.. data];
    }

    private void MutateOnce(List<byte> d, IReadOnlyList<byte[]> corpus, bool text)
    {
        switch (random.Next(text ? 9 : 8))
        {
            case 0 when d.Count > 0:
                {
                    int at = random.Next(d.Count);
                    d[at] ^= (byte)(1 << random.Next(8));
                    break;
                }
            case 1 when d.Count > 0:
                d[random.Next(d.Count)] = (byte)random.Next(256);
                break;
            case 2 when d.Count > 0:
                {
                    // An interesting integer, mostly where the protocol keeps its fields (4-byte aligned).
                    int width = 1 << random.Next(4);
                    int at = random.Next(2) == 0 ? random.Next(d.Count) : random.Next((d.Count / 4) + 1) * 4;
                    Span<byte> v = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(v, s_interesting[random.Next(s_interesting.Length)]);
                    for (int i = 0; i < width && at + i < d.Count; i++) d[at + i] = v[i];
                    break;
                }
            case 3:
                {
                    int at = random.Next(d.Count + 1);
                    int n = 1 + random.Next(random.Next(2) == 0 ? 4 : 64);
                    for (int i = 0; i < n; i++) d.Insert(at, text ? s_textBytes[random.Next(s_textBytes.Length)] : (byte)random.Next(256));
                    break;
                }
            case 4 when d.Count > 0:
                {
                    int at = random.Next(d.Count);
                    d.RemoveRange(at, Math.Min(d.Count - at, 1 + random.Next(16)));
                    break;
                }
            case 5 when d.Count > 0:
                {
                    // Repeat a run (long lists, long lines, many messages' worth of bytes).
                    int at = random.Next(d.Count);
                    int n = Math.Min(d.Count - at, 1 + random.Next(32));
                    var run = d.GetRange(at, n);
                    for (int times = random.Next(1, 64); times > 0 && d.Count < 70_000; times--) d.InsertRange(at, run);
                    break;
                }
            case 6 when corpus.Count > 0:
                {
                    // Splice: this input's head with another's tail.
                    var other = corpus[random.Next(corpus.Count)];
                    int keep = random.Next(d.Count + 1), from = random.Next(other.Length + 1);
                    d.RemoveRange(keep, d.Count - keep);
                    d.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
            case 7 when d.Count > 16:
                {
                    // Cut the message somewhere after its header.
                    int length = 16 + random.Next(d.Count - 16);
                    d.RemoveRange(length, d.Count - length);
                    break;
                }
            case 8 when d.Count > 0:
                d[random.Next(d.Count)] = s_textBytes[random.Next(s_textBytes.Length)];
                break;
            default:
                d.Add((byte)random.Next(256));
                break;
        }
    }
}
