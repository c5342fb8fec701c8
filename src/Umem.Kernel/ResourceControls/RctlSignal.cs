using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// The signals resource_controls(7) allows as a <c>signal=</c> action, with their Linux numbers. SIGXRES, the
/// sixth allowed signal, does not exist on Linux: a file or command that names it is refused.
/// </summary>
public enum RctlSignal
{
    SIGHUP = Signals.SIGHUP,
    SIGABRT = Signals.SIGABRT,
    SIGKILL = Signals.SIGKILL,
    SIGTERM = Signals.SIGTERM,
    SIGSTOP = Signals.SIGSTOP,
}

/// <summary>Parsing and naming of <see cref="RctlSignal"/>.</summary>
public static class RctlSignals
{
    /// <summary>The allowed signals, in the order resource_controls(7) lists them (less SIGXRES).</summary>
    public static IReadOnlyList<RctlSignal> Allowed { get; } =
        [RctlSignal.SIGABRT, RctlSignal.SIGHUP, RctlSignal.SIGSTOP, RctlSignal.SIGTERM, RctlSignal.SIGKILL];

    /// <summary>"SIGTERM" → "TERM", as prctl prints the action (<c>signal=TERM</c>).</summary>
    public static string ShortName(this RctlSignal signal) => signal.ToString()[3..];

    /// <summary>
    /// Parses <c>TERM</c>, <c>SIGTERM</c> or <c>15</c>. Returns null and an explanation for anything else,
    /// including SIGXRES (not on Linux) and signals resource_controls(7) does not allow.
    /// </summary>
    public static RctlSignal? Parse(string text, out string? error)
    {
        error = null;
        string t = text.Trim();
        if (int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n))
        {
            foreach (var s in Allowed)
                if ((int)s == n) return s;
            error = $"signal {n} is not allowed as an rctl action (allowed: {AllowedText})";
            return null;
        }
        string upper = t.ToUpperInvariant();
        string name = upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper;
        if (name == "SIGXRES")
        {
            error = "SIGXRES does not exist on Linux; use one of " + AllowedText;
            return null;
        }
        foreach (var s in Allowed)
            if (s.ToString() == name) return s;
        error = $"'{text}' is not a signal allowed as an rctl action (allowed: {AllowedText})";
        return null;
    }

    private static string AllowedText => string.Join(", ", Allowed.Select(s => s.ToString()));
}
