using System.Globalization;
using System.Text;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// A plain table for people: a header row and columns padded to their widest cell, numbers right-aligned, two spaces
/// between columns, no borders (so it survives copying and `grep`, as pmap's and vmstat's output does).
/// </summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    internal TextTable Add(params object?[] cells)
    {
        _rows.Add([.. cells.Select(c => c switch
        {
            null => "-",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => c.ToString() ?? "-",
        })]);
        return this;
    }

    internal int Count => _rows.Count;

    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        var numeric = headers.Select((_, i) => _rows.Count > 0 && _rows.All(r => IsNumber(r[i]))).ToArray();
        var sb = new StringBuilder();
        foreach (var row in _rows.Prepend(headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0) sb.Append("  ");
                bool last = i == row.Length - 1;
                sb.Append(numeric[i] ? row[i].PadLeft(widths[i]) : last ? row[i] : row[i].PadRight(widths[i]));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static bool IsNumber(string s) => s == "-" || long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
}
