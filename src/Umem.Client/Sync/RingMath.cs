namespace Umem.Client.Sync;

/// <summary>
/// The ring's index arithmetic, apart so it can be checked on its own. Positions are byte counts since the ring
/// was created (64-bit, never wrapping in practice); a position's byte lives at <c>position mod capacity</c>.
/// Differences of positions are taken in 64-bit two's complement, so every comparison is a subtraction.
/// </summary>
internal static class RingMath
{
    internal static bool IsValidCapacity(int capacity) =>
        capacity is >= SharedRing.MinCapacity and <= SharedRing.MaxCapacity && (capacity & (capacity - 1)) == 0;

    /// <summary>Where <paramref name="position"/>'s byte lives in the data.</summary>
    internal static int Offset(long position, int capacity) => (int)(position & (capacity - 1));

    /// <summary>
    /// The <paramref name="length"/> bytes from <paramref name="position"/> are <c>First</c> bytes at
    /// <c>Offset</c> followed by <c>Second</c> bytes at 0 (when they wrap around the end).
    /// </summary>
    internal static (int Offset, int First, int Second) Split(long position, int length, int capacity)
    {
        int offset = Offset(position, capacity);
        int first = Math.Min(length, capacity - offset);
        return (offset, first, length - first);
    }

    /// <summary>
    /// True when the writer may already be overwriting <paramref name="position"/>: it has reserved space up to
    /// <paramref name="reserved"/>, which reuses every byte below <c>reserved - capacity</c>.
    /// </summary>
    internal static bool IsOverwritten(long reserved, long position, int capacity) => reserved - position > capacity;

    /// <summary>
    /// True when <paramref name="cursor"/> is at or past <paramref name="target"/>; a writer may write up to
    /// <c>end</c> once every flow-controlled reader has reached <c>end - capacity</c>.
    /// </summary>
    internal static bool HasReached(long cursor, long target) => cursor - target >= 0;
}
