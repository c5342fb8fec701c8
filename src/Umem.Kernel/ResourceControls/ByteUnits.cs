using System.Globalization;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// Byte quantities as prctl(1) reads and prints them: suffixes B, K/KB, M/MB, G/GB, T/TB, P/PB, E/EB in powers of
/// 2^10; printed with three significant digits (<c>0B</c>, <c>2.42GB</c>, <c>508MB</c>, <c>16.0EB</c>).
/// </summary>
public static class ByteUnits
{
    private static readonly string[] s_units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];

    /// <summary>Formats <paramref name="bytes"/> as prctl does.</summary>
    public static string Format(ulong bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        double v = bytes;
        int unit = 0;
        while (v >= 1024 && unit < s_units.Length - 1)
        {
            v /= 1024;
            unit++;
        }
        string digits = v < 10 ? v.ToString("F2", CultureInfo.InvariantCulture)
            : v < 100 ? v.ToString("F1", CultureInfo.InvariantCulture)
            : v.ToString("F0", CultureInfo.InvariantCulture);
        return digits + s_units[unit];
    }

    /// <summary>
    /// Parses <c>300M</c>, <c>300MB</c>, <c>1.5G</c>, <c>4096</c> (bytes). False with a reason for anything else,
    /// including values that do not fit in 64 bits or are not a whole number of bytes.
    /// </summary>
    public static bool TryParse(string text, out ulong bytes, out string? error)
    {
        bytes = 0;
        error = null;
        string t = text.Trim().ToUpperInvariant();
        int end = 0;
        while (end < t.Length && (char.IsAsciiDigit(t[end]) || t[end] == '.')) end++;
        string number = t[..end];
        string suffix = t[end..];
        if (number.Length == 0 || number.Count(c => c == '.') > 1 || number.StartsWith('.') || number.EndsWith('.'))
        {
            error = $"'{text}' is not a number of bytes (e.g. 300M, 1.5GB, 4096)";
            return false;
        }
        int power = suffix switch
        {
            "" or "B" => 0,
            "K" or "KB" => 1,
            "M" or "MB" => 2,
            "G" or "GB" => 3,
            "T" or "TB" => 4,
            "P" or "PB" => 5,
            "E" or "EB" => 6,
            _ => -1,
        };
        if (power < 0)
        {
            error = $"'{text}': unknown unit '{suffix}' (B, K, M, G, T, P, E, optionally followed by B)";
            return false;
        }
        decimal value = decimal.Parse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        decimal scaled = value;
        for (int i = 0; i < power; i++) scaled *= 1024;
        if (scaled > ulong.MaxValue)
        {
            error = $"'{text}' is more than 16EB";
            return false;
        }
        if (scaled != decimal.Truncate(scaled))
        {
            error = $"'{text}' is not a whole number of bytes";
            return false;
        }
        bytes = (ulong)scaled;
        return true;
    }
}
