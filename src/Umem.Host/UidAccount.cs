namespace Umem.Host;

/// <summary>What every connection of one uid holds together (<see cref="ConnectionAdmission"/> keeps one per uid).</summary>
internal enum UidHolding
{
    Opens,
    Mappings,
    RegisteredBytes,
}

/// <summary>
/// The holdings of all connections of one uid, so that a uid's many connections cannot multiply the per-connection
/// limits. Charged before the kernel is asked and given back on every path that ends a holding (CLOSE, MUNMAP of the
/// last range, UNREGISTER, a failed request, the connection's end). Root is counted but never refused, as for
/// connections: it is the administrator's way in.
/// </summary>
internal sealed class UidAccount(uint uid)
{
    private readonly long[] _held = new long[3];

    internal uint Uid => uid;

    /// <summary>Connections of this uid being served (changed under the admission's lock only).</summary>
    internal int Connections { get; set; }

    /// <summary>What the uid's connections hold of <paramref name="holding"/> now.</summary>
    internal long Held(UidHolding holding) => Interlocked.Read(ref _held[(int)holding]);

    /// <summary>Adds <paramref name="amount"/>; false (nothing added) when that would pass <paramref name="limit"/>.</summary>
    internal bool TryCharge(UidHolding holding, long amount, long limit)
    {
        ref long held = ref _held[(int)holding];
        if (Interlocked.Add(ref held, amount) <= limit || uid == 0) return true;
        Interlocked.Add(ref held, -amount);
        return false;
    }

    /// <summary>Gives back what <see cref="TryCharge"/> took.</summary>
    internal void Release(UidHolding holding, long amount)
    {
        if (amount != 0) Interlocked.Add(ref _held[(int)holding], -amount);
    }
}
