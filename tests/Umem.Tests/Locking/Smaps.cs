using System.Globalization;

namespace Umem.Tests.Locking;

/// <summary>Reads what the kernel says is locked: /proc/self/smaps "Locked:" over an address range.</summary>
internal static class Smaps
{
    /// <summary>Bytes locked in [start, start+length) of this process, per /proc/self/smaps.</summary>
    public static long LockedBytes(nint start, long length)
    {
        ulong lo = (ulong)start, hi = lo + (ulong)length;
        long total = 0;
        bool inRange = false;
        ulong vmaLo = 0, vmaHi = 0;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong a)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong b))
            {
                vmaLo = a;
                vmaHi = b;
                inRange = a < hi && lo < b;
                continue;
            }
            if (inRange && line.StartsWith("Locked:", StringComparison.Ordinal))
            {
                long kb = long.Parse(line["Locked:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                // mlock splits VMAs at lock boundaries, so a VMA is either wholly locked or not; clip to the range.
                if (kb > 0)
                {
                    ulong clipLo = Math.Max(vmaLo, lo), clipHi = Math.Min(vmaHi, hi);
                    total += Math.Min(kb * 1024, (long)(clipHi - clipLo));
                }
            }
        }
        return total;
    }
}
