namespace Umem.Kernel.ResourceControls;

/// <summary>
/// One value of a resource control: a threshold at a privilege level with its actions. The locked-memory
/// controls are RCTL_GLOBAL_DENY_ALWAYS, so every value denies; a value may also send a signal to the process
/// that tried to exceed it.
/// </summary>
/// <param name="Privilege">Privileged or system (basic is refused for these controls).</param>
/// <param name="Value">The threshold in bytes; usage may reach it but not exceed it.</param>
/// <param name="Signal">The <c>signal=</c> action, if any.</param>
public sealed record RctlValue(RctlPrivilege Privilege, ulong Value, RctlSignal? Signal = null)
{
    /// <summary>The system value of a byte control: unlimited.</summary>
    public static RctlValue SystemMaximum { get; } = new(RctlPrivilege.System, ulong.MaxValue);

    /// <summary>True for the value that means "no limit" (prctl's <c>max</c> flag).</summary>
    public bool IsMaximal => Value == ulong.MaxValue;

    /// <summary>The actions as prctl prints them: <c>deny</c> or <c>deny,signal=TERM</c>.</summary>
    public string ActionText => Signal is { } s ? $"deny,signal={s.ShortName()}" : "deny";

    public override string ToString() =>
        $"({(Privilege == RctlPrivilege.Privileged ? "privileged" : Privilege.ToString().ToLowerInvariant())},{Value},{ActionText})";
}
