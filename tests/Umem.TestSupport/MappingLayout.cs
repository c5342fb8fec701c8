using System.Globalization;

namespace Umem.TestSupport;

/// <summary>What one mapping of this process is made of, from /proc/self/maps.</summary>
public static class MappingLayout
{
    /// <summary>
    /// The VMAs inside [<paramref name="address"/>, +<paramref name="length"/>) and the files behind them (distinct
    /// inodes: one per memfd, so one per fd the mapping was made from).
    /// </summary>
    public static (int Fds, int Vmas) Count(nint address, long length)
    {
        ulong start = (ulong)address, end = start + (ulong)length;
        int vmas = 0;
        var inodes = new HashSet<string>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            int dash = f[0].IndexOf('-', StringComparison.Ordinal);
            ulong lo = ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong hi = ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (lo < start || hi > end) continue;
            vmas++;
            inodes.Add(f[4]);
        }
        return (inodes.Count, vmas);
    }
}
