using Umem.Kernel.Devices;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// The one-time tokens DUP_PREPARE issued (docs/protocol.md, fork and devmap_dup), for the whole host: a forked
/// child redeems one on a connection of its own. A token is bound to one mapping and to the process that asked
/// for it; it is accepted once, before it expires, from a child of that process (<see cref="Redeem"/>). A mapping
/// whose connection ends while tokens for it are pending stays mapped (an orphan) until they are redeemed or
/// expire, so a parent that exits right after fork does not take the child's inheritance with it. Thread-safe.
/// </summary>
internal sealed class InheritTokens : IDisposable
{
    private sealed record Entry(DeviceMapping Mapping, uint Uid, int ParentPid, long ParentStart, long IssuedTicks, long ExpiresAt);

    private readonly Lock _gate = new();
    private readonly Dictionary<InheritToken, Entry> _live = [];
    // Expired tokens, kept for ten more lifetimes so that a late child hears ETIMEDOUT, not ENOENT.
    private readonly Dictionary<InheritToken, long> _expired = [];
    private readonly Dictionary<DeviceMapping, int> _pending = [];
    private readonly HashSet<DeviceMapping> _orphans = [];
    private readonly Dictionary<uint, int> _perUid = [];
    private readonly TimeSpan _lifetime;
    private readonly int _maxPerUid;
    private readonly Action<DeviceMapping> _unmap;
    private readonly Timer _sweep;
    private bool _disposed;

    /// <param name="lifetime">How long a token may be redeemed.</param>
    /// <param name="maxPerUid">Tokens one uid may have pending at once (ENOMEM beyond).</param>
    /// <param name="unmap">Unmaps an orphan whose last token went (the driver's unmap callbacks run).</param>
    internal InheritTokens(TimeSpan lifetime, int maxPerUid, Action<DeviceMapping> unmap)
    {
        _lifetime = lifetime;
        _maxPerUid = maxPerUid;
        _unmap = unmap;
        var period = TimeSpan.FromMilliseconds(Math.Max(50, lifetime.TotalMilliseconds / 2));
        _sweep = new Timer(static t => ((InheritTokens)t!).Sweep(), this, period, period);
    }

    /// <summary>Tokens pending now (tests and diagnostics).</summary>
    internal int Pending
    {
        get
        {
            lock (_gate) return _live.Count;
        }
    }

    /// <summary>Orphaned mappings held now (tests and diagnostics).</summary>
    internal int Orphans
    {
        get
        {
            lock (_gate) return _orphans.Count;
        }
    }

    /// <summary>A new token for <paramref name="mapping"/>, held by <paramref name="parent"/>; ENOMEM past the uid's limit, ESRCH when the parent's start time is unknown.</summary>
    internal Errno Issue(DeviceMapping mapping, ClientSession parent, out InheritToken token)
    {
        token = default;
        if (parent.Stat is not { } stat) return Errno.ESRCH;
        long issued = ProcessStat.TicksSinceBoot();
        uint uid = parent.Cred.Uid;
        lock (_gate)
        {
            int held = _perUid.GetValueOrDefault(uid);
            if (held >= _maxPerUid) return Errno.ENOMEM;
            do token = InheritToken.NewRandom();
            while (_live.ContainsKey(token) || _expired.ContainsKey(token));
            _live.Add(token, new Entry(mapping, uid, parent.Cred.Pid, stat.StartTicks, issued, Environment.TickCount64 + (long)_lifetime.TotalMilliseconds));
            _perUid[uid] = held + 1;
            _pending[mapping] = _pending.GetValueOrDefault(mapping) + 1;
        }
        return Errno.None;
    }

    /// <summary>
    /// Takes <paramref name="token"/> for <paramref name="child"/>: ENOENT when it was never issued or is used,
    /// ETIMEDOUT when it expired, EPERM when the child is not the holder's child (the token stays for the real
    /// one). A child is one of the holder's uid whose parent (/proc, read when it connected, confirmed by its
    /// pidfd) is the holder, the same process that asked (its start time); or, once the holder has exited (its
    /// children were reparented), one that started no earlier than the token was issued. On success the caller
    /// makes the mapping its own and then calls <see cref="Settle"/>.
    /// </summary>
    internal Errno Redeem(InheritToken token, ClientSession child, out DeviceMapping? mapping, out string reason)
    {
        mapping = null;
        Entry? e;
        bool unmap = false;
        lock (_gate)
        {
            if (!_live.TryGetValue(token, out e))
            {
                reason = _expired.ContainsKey(token) ? "the token expired" : "no such token (never issued, or already used)";
                return _expired.ContainsKey(token) ? Errno.ETIMEDOUT : Errno.ENOENT;
            }
            if (Environment.TickCount64 > e.ExpiresAt)
            {
                ExpireLocked(token, e);
                unmap = !_pending.ContainsKey(e.Mapping) && _orphans.Remove(e.Mapping);
            }
        }
        if (Environment.TickCount64 > e.ExpiresAt)
        {
            if (unmap) _unmap(e.Mapping);
            reason = "the token expired";
            return Errno.ETIMEDOUT;
        }
        reason = IsChild(e, child);
        if (reason.Length > 0) return Errno.EPERM;
        lock (_gate)
        {
            if (!_live.Remove(token))
            {
                reason = "the token was used or expired meanwhile";
                return Errno.ENOENT;
            }
            DropLocked(e);
        }
        mapping = e.Mapping;
        return Errno.None;
    }

    /// <summary>After a redemption: an orphan with no token left is unmapped.</summary>
    internal void Settle(DeviceMapping mapping)
    {
        bool unmap;
        lock (_gate) unmap = !_pending.ContainsKey(mapping) && _orphans.Remove(mapping);
        if (unmap) _unmap(mapping);
    }

    /// <summary>At the end of a connection: true when <paramref name="mapping"/> has tokens pending, and is now held here.</summary>
    internal bool Adopt(DeviceMapping mapping)
    {
        lock (_gate)
        {
            if (_disposed || !_pending.ContainsKey(mapping)) return false;
            _orphans.Add(mapping);
            return true;
        }
    }

    /// <summary>Forgets every token for a mapping of node <paramref name="node"/> (all when null) and unmaps the orphans among them: the node's connections were all ended.</summary>
    internal void Drop(string? node)
    {
        var unmap = new List<DeviceMapping>();
        lock (_gate)
        {
            foreach (var (token, e) in _live.Where(p => node is null || p.Value.Mapping.Node.Name == node).ToList())
            {
                _live.Remove(token);
                DropLocked(e);
            }
            unmap.AddRange(_orphans.Where(m => !_pending.ContainsKey(m)));
            foreach (var m in unmap) _orphans.Remove(m);
        }
        foreach (var m in unmap) _unmap(m);
    }

    public void Dispose()
    {
        DeviceMapping[] orphans;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            orphans = [.. _orphans];
            _orphans.Clear();
            _live.Clear();
            _pending.Clear();
        }
        _sweep.Dispose();
        foreach (var m in orphans) _unmap(m);
    }

    /// <summary>"" when <paramref name="child"/> may inherit from <paramref name="e"/>'s holder, else why not.</summary>
    private static string IsChild(Entry e, ClientSession child)
    {
        if (child.Cred.Uid != e.Uid) return $"uid {child.Cred.Uid} is not the parent's {e.Uid}";
        if (child.Stat is not { } stat) return "the process's parent is unknown";
        bool parentLives = ParentStillRuns(e);
        if (stat.ParentPid == e.ParentPid && parentLives) return "";
        if (!parentLives && stat.StartTicks >= e.IssuedTicks) return "";
        return parentLives
            ? $"pid {child.Cred.Pid}'s parent is {stat.ParentPid}, not {e.ParentPid}"
            : $"pid {child.Cred.Pid} started before the token was issued, so it was not forked after it";
    }

    /// <summary>Whether the process that asked for the token still runs (the pid holds a process with its start time, not a zombie).</summary>
    private static bool ParentStillRuns(Entry e)
    {
        try
        {
            using var proc = ProcessDirectory.Open(e.ParentPid);
            var stat = ProcessStat.Read(proc);
            return stat.StartTicks == e.ParentStart && !stat.HasExited;
        }
        catch (ErrnoException)
        {
            return false; // gone (ENOENT, ESRCH)
        }
    }

    private void Sweep()
    {
        var unmap = new List<DeviceMapping>();
        lock (_gate)
        {
            long now = Environment.TickCount64;
            foreach (var (token, e) in _live.Where(p => now > p.Value.ExpiresAt).ToList())
            {
                ExpireLocked(token, e);
                if (!_pending.ContainsKey(e.Mapping) && _orphans.Remove(e.Mapping)) unmap.Add(e.Mapping);
            }
            long forget = now - 10 * (long)_lifetime.TotalMilliseconds;
            foreach (var token in _expired.Where(p => p.Value < forget).Select(p => p.Key).ToList()) _expired.Remove(token);
        }
        foreach (var m in unmap) _unmap(m);
    }

    private void ExpireLocked(InheritToken token, Entry e)
    {
        _live.Remove(token);
        _expired[token] = Environment.TickCount64;
        DropLocked(e);
    }

    private void DropLocked(Entry e)
    {
        if (--_perUid[e.Uid] == 0) _perUid.Remove(e.Uid);
        if (--_pending[e.Mapping] == 0) _pending.Remove(e.Mapping);
    }
}
