using System.CommandLine;
using System.CommandLine.Parsing;
using Umem.Kernel.ResourceControls;

namespace Umem.CommandLine;

/// <summary>The CLI's own option kinds; the rest are shared with the samples (src/Shared/CliOptions.cs).</summary>
internal static partial class CliOptions
{
    /// <summary>A size: 4096, 64M, 1.5G (ByteUnits).</summary>
    internal static Option<long?> Bytes(string name, string description) =>
        new(name) { Description = description, CustomParser = r => ParseBytes(r, name) };

    private static long? ParseBytes(ArgumentResult r, string name)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (ByteUnits.TryParse(text, out ulong bytes, out string? error) && bytes <= long.MaxValue) return (long)bytes;
        r.AddError($"{name}: {error ?? $"'{text}' is too large"}");
        return null;
    }
}
