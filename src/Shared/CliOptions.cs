using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Umem.CommandLine;

/// <summary>
/// Options and arguments whose parse errors name the option and what it takes ("--locks: 'x' is not a whole
/// number from 1 to 1048576"), never a .NET type name. The CLI adds its own kinds in another part.
/// </summary>
internal static partial class CliOptions
{
    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static Option<int?> Int(string name, string description, int min, int max) =>
        new(name) { Description = description, CustomParser = r => ParseInt(r, name, min, max) };

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, 64-bit.</summary>
    internal static Option<long?> Long(string name, string description, long min, long max) =>
        new(name) { Description = description, CustomParser = r => ParseLong(r, name, min, max) };

    /// <summary>A whole number argument from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static Argument<int> IntArgument(string name, string description, int min, int max) =>
        new(name) { Description = description, CustomParser = r => ParseInt(r, name, min, max) ?? 0 };

    /// <summary>
    /// <paramref name="option"/>'s value for a validator, or false when its parse failed (its own error names it
    /// already; reading the value would throw the error as an InvalidOperationException).
    /// </summary>
    internal static bool TryGetValue<T>(CommandResult r, Option<T> option, out T? value)
    {
        try
        {
            value = r.GetValue(option);
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }

    /// <summary>
    /// A path argument. A word beginning with '-' is an option this command does not have, not a path: a mistyped
    /// option is named as such rather than opened.
    /// </summary>
    internal static Argument<string> PathArgument(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.Tokens[0].Value.StartsWith('-'))
                r.AddError($"unknown option '{r.Tokens[0].Value}'");
        });
        return argument;
    }

    /// <summary>One of <typeparamref name="T"/>'s names, case-insensitive.</summary>
    internal static Option<T?> Choice<T>(string name, string description)
        where T : struct, Enum =>
        new(name) { Description = description, CustomParser = r => ParseChoice<T>(r, name) };

    private static int? ParseInt(ArgumentResult r, string name, int min, int max) =>
        (int?)ParseLong(r, name, min, max);

    private static long? ParseLong(ArgumentResult r, string name, long min, long max)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max) return v;
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
