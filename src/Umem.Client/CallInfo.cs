using System.Globalization;

namespace Umem.Client;

/// <summary>
/// What a failed call was, formatted only when an error is reported (the success path builds no strings):
/// <c>format</c> gets the node path as {0}, two numbers as {1} and {2}, and a text as {3}.
/// </summary>
internal readonly struct CallInfo(string format, string path, long a = 0, long b = 0, string? text = null)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, format, path, a, b, text);
}
