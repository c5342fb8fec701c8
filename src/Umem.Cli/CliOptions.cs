using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Umem.Kernel.ResourceControls;

namespace Umem.Cli;

/// <summary>
/// Options and arguments whose parse errors name the option and what it takes ("--max-bytes: 'x' is not a
/// number of bytes"), never a .NET type name.
/// </summary>
internal static class CliOptions
{
    /// <summary>A size: 4096, 64M, 1.5G (ByteUnits).</summary>
    internal static Option<long?> Bytes(string name, string description) =>
        new(name) { Description = description, CustomParser = r => ParseBytes(r, name) };

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static Option<int?> Int(string name, string description, int min, int max) =>
        new(name) { Description = description, CustomParser = r => ParseInt(r, name, min, max) };

    /// <summary>A whole number argument from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static Argument<int> IntArgument(string name, string description, int min, int max) =>
        new(name) { Description = description, CustomParser = r => ParseInt(r, name, min, max) ?? 0 };

    /// <summary>One of <typeparamref name="T"/>'s names, case-insensitive.</summary>
    internal static Option<T?> Choice<T>(string name, string description)
        where T : struct, Enum =>
        new(name) { Description = description, CustomParser = r => ParseChoice<T>(r, name) };

    private static long? ParseBytes(ArgumentResult r, string name)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (ByteUnits.TryParse(text, out ulong bytes, out string? error) && bytes <= long.MaxValue) return (long)bytes;
        r.AddError($"{name}: {error ?? $"'{text}' is too large"}");
        return null;
    }

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max) return v;
        r.AddError($"{name}: '{text}' is not a whole number from {min} to {max}");
        return null;
    }

    private static T? ParseChoice<T>(ArgumentResult r, string name)
        where T : struct, Enum
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (!int.TryParse(text, out _) && Enum.TryParse<T>(text, ignoreCase: true, out var v)) return v;
        r.AddError($"{name}: '{text}' is not one of {string.Join(", ", Enum.GetNames<T>())}");
        return null;
    }
}
