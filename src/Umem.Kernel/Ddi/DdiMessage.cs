namespace Umem.Kernel.Ddi;

/// <summary>A message from a driver (cmn_err) or from the framework about a module.</summary>
/// <param name="Time">When it was emitted.</param>
/// <param name="Module">The module it concerns.</param>
/// <param name="Level">Its severity.</param>
/// <param name="Text">The message.</param>
/// <param name="Exception">What a driver's entry point threw, when that is the message (its stack is for debugging).</param>
public sealed record DdiMessage(DateTimeOffset Time, string Module, CeLevel Level, string Text, Exception? Exception = null)
{
    public override string ToString() => Level switch
    {
        CeLevel.Warn => $"WARNING: {Module}: {Text}",
        CeLevel.Panic => $"PANIC (not honoured): {Module}: {Text}",
        CeLevel.Note => $"NOTICE: {Module}: {Text}",
        _ => $"{Module}: {Text}",
    };
}
