namespace Umem.Kernel.ResourceControls;

/// <summary>Character rules shared by the project and zones files.</summary>
internal static class NameSyntax
{
    /// <summary>PROJNAME_MAX and ZONENAME_MAX - 1.</summary>
    internal const int MaxNameLength = 64;

    /// <summary>MAXPROJID / MAX_ZONEID ceiling: ids are non-negative 32-bit values.</summary>
    internal const int MaxId = int.MaxValue;

    /// <summary>A project or zone name: a letter (or, for zones, a digit) first, then letters, digits, '_', '-', '.'.</summary>
    internal static string? CheckName(string name, bool digitFirstAllowed)
    {
        if (name.Length == 0) return "empty";
        if (name.Length > MaxNameLength) return $"longer than {MaxNameLength} characters";
        if (!(char.IsAsciiLetter(name[0]) || (digitFirstAllowed && char.IsAsciiDigit(name[0]))))
            return $"'{name}' must begin with a letter";
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                return $"'{name}' contains '{Printable(c)}' (letters, digits, '_', '-' and '.' only)";
        }
        return null;
    }

    /// <summary>A decimal id in [0, MaxId].</summary>
    internal static int? ParseId(string text, out string? error)
    {
        error = null;
        if (text.Length == 0 || !text.All(char.IsAsciiDigit))
        {
            error = text.Length == 0 ? "empty" : $"'{text}' is not a non-negative decimal number";
            return null;
        }
        if (text.Length > 10 || long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) > MaxId)
        {
            error = $"{text} is larger than {MaxId}";
            return null;
        }
        return int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The attribute-value characters project(5) allows (plus '=' for <c>signal=</c> actions).</summary>
    internal static bool IsValueChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '+' or '.' or '/' or '_' or ',' or '(' or ')' or '=';

    internal static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();
}
