using System.Globalization;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// The value syntax of a resource-control attribute in project(5) and the zones file:
/// <c>(privilege,value,action[,action])[,(…)]</c>, e.g. <c>(privileged,1073741824,deny)</c>. Values are plain
/// decimal byte counts: unit suffixes are for prctl, not for the file (resource_controls(7)).
/// </summary>
internal static class RctlValueSyntax
{
    /// <summary>Parses the value list of <paramref name="definition"/>; null with an error on bad input.</summary>
    internal static List<RctlValue>? Parse(ResourceControlDefinition definition, string text, out string? error)
    {
        error = null;
        var values = new List<RctlValue>();
        int i = 0;
        while (true)
        {
            if (i >= text.Length || text[i] != '(')
            {
                error = $"{definition.Name}: expected '(' at offset {i} of '{text}'";
                return null;
            }
            int close = text.IndexOf(')', i);
            if (close < 0)
            {
                error = $"{definition.Name}: missing ')' in '{text}'";
                return null;
            }
            var value = ParseOne(definition, text[(i + 1)..close], out error);
            if (value is null) return null;
            values.Add(value);
            i = close + 1;
            if (i == text.Length) break;
            if (text[i] != ',')
            {
                error = $"{definition.Name}: expected ',' or end after ')' in '{text}'";
                return null;
            }
            i++;
        }
        var dup = values.GroupBy(v => v.Value).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
        {
            error = $"{definition.Name}: two values with the same threshold {dup.Key}";
            return null;
        }
        return values;
    }

    private static RctlValue? ParseOne(ResourceControlDefinition definition, string tuple, out string? error)
    {
        error = null;
        string[] parts = tuple.Split(',');
        if (parts.Length < 3)
        {
            error = $"{definition.Name}: '({tuple})' needs privilege,value,action";
            return null;
        }
        var privilege = ParsePrivilege(definition, parts[0], out error);
        if (privilege is null) return null;
        if (parts[1].Length == 0 || !parts[1].All(char.IsAsciiDigit) ||
            !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong limit))
        {
            error = $"{definition.Name}: value '{parts[1]}' is not a decimal byte count (unit suffixes are not allowed in the file)";
            return null;
        }
        RctlSignal? signal = null;
        foreach (string action in parts.Skip(2))
        {
            // RCTL_GLOBAL_DENY_ALWAYS: the deny action stays on whatever the file says, so "none" changes nothing.
            if (action is "deny" or "none")
                continue;
            if (action.StartsWith("signal=", StringComparison.Ordinal))
            {
                if (signal is not null)
                {
                    error = $"{definition.Name}: more than one signal action in '({tuple})'";
                    return null;
                }
                signal = RctlSignals.Parse(action["signal=".Length..], out error);
                if (signal is null)
                {
                    error = $"{definition.Name}: {error}";
                    return null;
                }
            }
            else
            {
                error = $"{definition.Name}: unknown action '{action}' (deny, none or signal=SIG)";
                return null;
            }
        }
        return new RctlValue(privilege.Value, limit, signal);
    }

    internal static RctlPrivilege? ParsePrivilege(ResourceControlDefinition definition, string text, out string? error)
    {
        error = null;
        switch (text)
        {
            case "privileged" or "priv":
                return RctlPrivilege.Privileged;
            case "basic":
                error = $"{definition.Name} takes no basic values (RCTL_GLOBAL_NOBASIC); use privileged";
                return null;
            case "system":
                error = $"{definition.Name}: the system value is fixed at UINT64_MAX and cannot be set";
                return null;
            default:
                error = $"{definition.Name}: unknown privilege '{text}' (privileged or priv)";
                return null;
        }
    }
}
