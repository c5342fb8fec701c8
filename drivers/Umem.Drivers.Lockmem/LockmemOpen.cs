using Umem.Kernel.Locking;

namespace Umem.Drivers.Lockmem;

/// <summary>
/// The state of one open of lockmem0 (one clone minor): the locks it holds, by index. Thread-safe: ioctls of
/// one file may run at once, and a LONGTERM cleanup callback may run on the host's thread.
/// </summary>
public sealed class LockmemOpen
{
    private readonly Lock _gate = new();
    private readonly List<UmemLockCookie?> _cookies = [];

    /// <summary>Adds a lock; returns its index.</summary>
    public int Add(UmemLockCookie cookie)
    {
        lock (_gate)
        {
            _cookies.Add(cookie);
            return _cookies.Count - 1;
        }
    }

    /// <summary>Removes and returns the lock at <paramref name="index"/>; null when there is none.</summary>
    public UmemLockCookie? Take(int index)
    {
        lock (_gate)
        {
            if (index < 0 || index >= _cookies.Count) return null;
            var cookie = _cookies[index];
            _cookies[index] = null;
            return cookie;
        }
    }

    /// <summary>Removes <paramref name="cookie"/> wherever it is; true if it was held.</summary>
    public bool Remove(UmemLockCookie cookie)
    {
        lock (_gate)
        {
            int i = _cookies.IndexOf(cookie);
            if (i < 0) return false;
            _cookies[i] = null;
            return true;
        }
    }

    /// <summary>Removes and returns every lock still held.</summary>
    public List<UmemLockCookie> TakeAll()
    {
        lock (_gate)
        {
            var held = _cookies.OfType<UmemLockCookie>().ToList();
            _cookies.Clear();
            return held;
        }
    }
}
