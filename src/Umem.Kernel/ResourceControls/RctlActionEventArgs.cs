using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>A resource-control value was exceeded and its actions ran (deny, and a signal if it has one).</summary>
public sealed class RctlActionEventArgs : EventArgs
{
    internal RctlActionEventArgs(RctlEntity entity, RctlValue value, int recipientPid, ulong usage, ulong increment, Errno signalResult)
    {
        Entity = entity;
        Value = value;
        RecipientPid = recipientPid;
        Usage = usage;
        Increment = increment;
        SignalResult = signalResult;
    }

    /// <summary>The project or zone whose control denied.</summary>
    public RctlEntity Entity { get; }

    /// <summary>The value that was exceeded.</summary>
    public RctlValue Value { get; }

    /// <summary>The process that tried to exceed it: the recipient of the signal action.</summary>
    public int RecipientPid { get; }

    /// <summary>Usage before the attempt.</summary>
    public ulong Usage { get; }

    /// <summary>The bytes the process asked for.</summary>
    public ulong Increment { get; }

    /// <summary>
    /// None when the signal was delivered; the kill(2) errno otherwise (ESRCH: the process is gone; EPERM: the
    /// recipient is the host itself, which Umem never signals). None also when the value has no signal.
    /// </summary>
    public Errno SignalResult { get; }
}
