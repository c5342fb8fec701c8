namespace Umem.Host;

/// <summary>
/// How many connections the host serves at once, in all and per uid, so that one user cannot use up the host's
/// descriptors (each connection holds one) and deny everyone else. Root is never refused: it is the reserve an
/// administrator can always reach the host with.
/// </summary>
internal sealed class ConnectionAdmission(int maxConnections, int maxPerUid)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, int> _perUid = [];
    private int _total;

    /// <summary>Counts a connection of <paramref name="uid"/> in; false (with the limit reached) when it is over one.</summary>
    internal bool TryEnter(uint uid, out string? limit)
    {
        lock (_gate)
        {
            int mine = _perUid.GetValueOrDefault(uid);
            limit = uid == 0 ? null : _total >= maxConnections ? $"{maxConnections} connections in all"
                : mine >= maxPerUid ? $"{maxPerUid} connections per uid" : null;
            if (limit is not null) return false;
            _perUid[uid] = mine + 1;
            _total++;
            return true;
        }
    }

    /// <summary>A connection counted in by <see cref="TryEnter"/> has ended.</summary>
    internal void Exit(uint uid)
    {
        lock (_gate)
        {
            int left = _perUid[uid] - 1;
            if (left == 0) _perUid.Remove(uid);
            else _perUid[uid] = left;
            _total--;
        }
    }
}
