namespace Umem.Host;

/// <summary>
/// A bound on how many lines one kind of warning writes: at most <c>perSecond</c> a second, host-wide, so that a
/// client sending bad requests in a loop cannot fill the disk or the journal. Lines over the bound are counted, and
/// the next line written says how many were dropped.
/// </summary>
internal sealed class LogRateLimit(int perSecond)
{
    private readonly Lock _gate = new();
    private long _windowStart = Environment.TickCount64;
    private int _written;
    private long _dropped;

    /// <summary>True when a line may be written now; <paramref name="dropped"/> is how many were dropped before it.</summary>
    internal bool TryWrite(out long dropped)
    {
        long now = Environment.TickCount64;
        lock (_gate)
        {
            if (now - _windowStart >= 1000)
            {
                _windowStart = now;
                _written = 0;
            }
            if (_written >= perSecond)
            {
                _dropped++;
                dropped = 0;
                return false;
            }
            _written++;
            dropped = _dropped;
            _dropped = 0;
            return true;
        }
    }
}
