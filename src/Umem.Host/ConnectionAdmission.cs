namespace Umem.Host;

/// <summary>
/// How many connections the host serves at once, in all and per uid, so that one user cannot use up the host's
/// descriptors (each connection holds one) and deny everyone else, and each uid's <see cref="UidAccount"/> of what its
/// connections hold. Root is never refused: it is the reserve an administrator can always reach the host with.
/// </summary>
internal sealed class ConnectionAdmission(int maxConnections, int maxPerUid)
{
    private readonly Lock _gate = new();

    /// <summary>
    /// Turns at identifying an admitted connection's process (reading /proc through its pidfd: the costly part of
    /// a new connection, well under a millisecond), one per CPU at once, round robin by uid; one stuck for 100 ms
    /// stops counting.
    /// </summary>
    internal FairTurns Identification { get; } = new(Environment.ProcessorCount, TimeSpan.FromMilliseconds(100));

    private readonly Dictionary<uint, UidAccount> _perUid = [];
    private int _total;

    /// <summary>Counts a connection of <paramref name="uid"/> in and returns its uid's account; null (with the limit reached) when it is over one.</summary>
    internal UidAccount? TryEnter(uint uid, out string? limit)
    {
        lock (_gate)
        {
            var account = _perUid.GetValueOrDefault(uid);
            int mine = account?.Connections ?? 0;
            limit = uid == 0 ? null : _total >= maxConnections ? $"{maxConnections} connections in all"
                : mine >= maxPerUid ? $"{maxPerUid} connections per uid" : null;
            if (limit is not null) return null;
            if (account is null) _perUid[uid] = account = new UidAccount(uid);
            account.Connections++;
            _total++;
            return account;
        }
    }

    /// <summary>A connection counted in by <see cref="TryEnter"/> has ended (and given back all it held).</summary>
    internal void Exit(UidAccount account)
    {
        lock (_gate)
        {
            // The account goes with the uid's last connection: it holds nothing then.
            if (--account.Connections == 0) _perUid.Remove(account.Uid);
            _total--;
        }
    }

    /// <summary>The account of <paramref name="uid"/> while it has connections (null otherwise).</summary>
    internal UidAccount? Find(uint uid)
    {
        lock (_gate) return _perUid.GetValueOrDefault(uid);
    }
}
