using System.Runtime.InteropServices;
using CsCheck;
using Umem.Client.Sync;

namespace Umem.Tests.Sync;

/// <summary>
/// The ring's index arithmetic against a model, single-threaded on real memory: random writes, reads and skips
/// by two broadcast and two flow-controlled readers, small capacities (many wraps), start positions around 2^32
/// and far beyond, sizes at and past the capacity.
/// </summary>
public sealed unsafe class RingModelTests
{
    private const int Guard = 256;
    private const byte Canary = 0xA5;

    [Fact]
    public void SplitCoversTheRunExactlyOnce()
    {
        Gen.Select(Gen.Int[6, 30], Gen.Long[0, long.MaxValue / 2], Gen.Double[0, 1])
            .Sample((exp, position, fraction) =>
            {
                int capacity = 1 << exp;
                int length = (int)(fraction * capacity);
                var (offset, first, second) = RingMath.Split(position, length, capacity);
                Assert.InRange(offset, 0, capacity - 1);
                Assert.Equal(position % capacity, offset);
                Assert.Equal(length, first + second);
                Assert.InRange(first, 0, capacity - offset);
                // Bytes past the end of the data continue at its start, and only those.
                Assert.Equal(Math.Max(0, offset + length - capacity), second);
            }, iter: 2000);
    }

    [Fact]
    public void CapacityMustBeAPowerOfTwoInRange()
    {
        Gen.Int.Sample(capacity =>
        {
            bool valid = capacity is >= SharedRing.MinCapacity and <= SharedRing.MaxCapacity && int.PopCount(capacity) == 1;
            Assert.Equal(valid, RingMath.IsValidCapacity(capacity));
        }, iter: 2000);
        Assert.True(RingMath.IsValidCapacity(SharedRing.MinCapacity));
        Assert.True(RingMath.IsValidCapacity(SharedRing.MaxCapacity));
        Assert.False(RingMath.IsValidCapacity(SharedRing.MinCapacity / 2));
        Assert.False(RingMath.IsValidCapacity(SharedRing.MinCapacity + 1));
    }

    [Fact]
    public void WritersAndReadersFollowTheModel()
    {
        var start = Gen.OneOf(Gen.Const(0L), Gen.Long[(1L << 32) - 5000, (1L << 32) + 100], Gen.Long[0, 1L << 50]);
        var op = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 3], Gen.Int[0, int.MaxValue]);
        Gen.Select(Gen.Int[6, 10], start, op.Array[1, 300])
            .Sample((exp, startPosition, ops) => RunModel(1 << exp, startPosition, ops), iter: 400);
    }

    private static void RunModel(int capacity, long start, (int Kind, int Reader, int Size)[] ops)
    {
        long ringLength = SharedRing.RingLength(capacity);
        long controlLength = SharedRing.ControlLength(2);
        byte* ringBlock = Allocate(ringLength);
        byte* controlBlock = Allocate(controlLength);
        try
        {
            nint ring = (nint)(ringBlock + Guard), control = (nint)(controlBlock + Guard);
            using var writer = SharedRingWriter.Create(ring, ringLength, capacity, control, controlLength, start);
            SharedRingReader[] readers =
            [
                SharedRingReader.Open(ring, ringLength),
                SharedRingReader.Open(ring, ringLength, control, controlLength, flowControlled: false),
                SharedRingReader.Open(ring, ringLength, control, controlLength),
                SharedRingReader.Open(ring, ringLength, control, controlLength),
            ];
            Assert.Throws<InvalidOperationException>(() => SharedRingReader.Open(ring, ringLength, control, controlLength));
            Assert.Equal(2, writer.ActiveReaders);
            long written = start;
            long[] positions = [start, start, start, start];
            byte[] buffer = new byte[(2 * capacity) + 1];

            foreach (var (kind, r, size) in ops)
            {
                var reader = readers[r];
                if (kind <= 4)
                {
                    int n = size % (capacity + 2);   // 0 .. capacity + 1
                    TestPattern.Fill(buffer.AsSpan(0, n), written);
                    if (n > capacity)
                    {
                        Assert.Throws<ArgumentException>(() => writer.TryWrite(buffer.AsSpan(0, n), TimeSpan.Zero, TestContext.Current.CancellationToken));
                        continue;
                    }
                    bool fits = RingMath.HasReached(positions[2], written + n - capacity) && RingMath.HasReached(positions[3], written + n - capacity);
                    Assert.Equal(fits, writer.TryWrite(buffer.AsSpan(0, n), TimeSpan.Zero, TestContext.Current.CancellationToken));
                    if (fits)
                        written += n;
                    Assert.Equal(written, writer.Position);
                }
                else if (kind <= 8)
                {
                    int m = 1 + (size % (2 * capacity));
                    long available = written - positions[r];
                    Assert.Equal(available, reader.Available);
                    if (available > capacity)
                    {
                        Assert.True(r < 2, "a flow-controlled reader was overrun");
                        var overrun = Assert.Throws<SharedRingOverrunException>(() => reader.TryRead(buffer.AsSpan(0, m), out _));
                        Assert.Equal(positions[r], overrun.Position);
                        Assert.Equal(available - capacity, overrun.LostBytes);
                        Assert.Equal(positions[r], reader.Position);
                        continue;
                    }
                    bool any = reader.TryRead(buffer.AsSpan(0, m), out int read);
                    Assert.Equal(available > 0, any);
                    Assert.Equal((int)Math.Min(available, m), read);
                    for (int i = 0; i < read; i++)
                        Assert.True(buffer[i] == TestPattern.At(positions[r] + i), $"byte at {positions[r] + i}");
                    positions[r] += read;
                }
                else
                {
                    Assert.Equal(written - positions[r], reader.SkipToLatest());
                    positions[r] = written;
                }
                Assert.Equal(positions[r], reader.Position);
            }

            writer.Complete();
            for (int r = 0; r < readers.Length; r++)
            {
                while (true)
                {
                    if (written - positions[r] > capacity)
                    {
                        Assert.Throws<SharedRingOverrunException>(() => readers[r].TryRead(buffer, out _));
                        positions[r] += readers[r].SkipToLatest();
                    }
                    Assert.True(readers[r].TryRead(buffer, out int read));
                    if (read == 0)
                        break;
                    positions[r] += read;
                }
                Assert.Equal(written, readers[r].Position);
                Assert.Equal(0, readers[r].Read(buffer, TestContext.Current.CancellationToken));   // end of stream, without waiting
                readers[r].Dispose();
            }
            Assert.Equal(0, writer.ActiveReaders);
            Assert.Throws<InvalidOperationException>(() => writer.Write(buffer.AsSpan(0, 1), TestContext.Current.CancellationToken));
            CheckGuards(ringBlock, ringLength);
            CheckGuards(controlBlock, controlLength);
        }
        finally
        {
            NativeMemory.AlignedFree(ringBlock);
            NativeMemory.AlignedFree(controlBlock);
        }
    }

    /// <summary>A block with <see cref="Guard"/> canary bytes on both sides of <paramref name="length"/> usable bytes.</summary>
    private static byte* Allocate(long length)
    {
        byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)(length + (2 * Guard)), 64);
        new Span<byte>(block, (int)(length + (2 * Guard))).Fill(Canary);
        return block;
    }

    private static void CheckGuards(byte* block, long length)
    {
        Assert.True(new Span<byte>(block, Guard).IndexOfAnyExcept(Canary) < 0, "bytes before the region were written");
        Assert.True(new Span<byte>(block + Guard + length, Guard).IndexOfAnyExcept(Canary) < 0, "bytes after the region were written");
    }
}
