namespace Umem.Platform;

/// <summary>The system page size, read once from sysconf(_SC_PAGESIZE); never hard-coded.</summary>
public static class SystemPage
{
    /// <summary>Bytes in one page.</summary>
    public static int Size { get; } = ReadPageSize();

    /// <summary>log2(<see cref="Size"/>).</summary>
    public static int Shift { get; } = System.Numerics.BitOperations.Log2((uint)Size);

    /// <summary>Bytes to pages, rounded down (btop).</summary>
    public static long BytesToPages(long bytes) => bytes >> Shift;

    /// <summary>Bytes to pages, rounded up (btopr).</summary>
    public static long BytesToPagesRoundUp(long bytes) => (long)(((ulong)bytes + (ulong)Size - 1) >> Shift);

    /// <summary>Pages to bytes (ptob).</summary>
    public static long PagesToBytes(long pages) => pages << Shift;

    /// <summary>True when <paramref name="value"/> is a multiple of the page size.</summary>
    public static bool IsAligned(long value) => (value & (Size - 1)) == 0;

    private static int ReadPageSize()
    {
        long n = Interop.sysconf(Interop._SC_PAGESIZE);
        if (n <= 0 || (n & (n - 1)) != 0)
            throw new ErrnoException(Errno.EINVAL, "sysconf(_SC_PAGESIZE)", $"returned {n}");
        return (int)n;
    }
}
