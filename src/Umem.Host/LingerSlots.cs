namespace Umem.Host;

/// <summary>A bound on the connections whose threads wait for a next request at once (see DeviceHostOptions.Linger).</summary>
internal sealed class LingerSlots(int slots)
{
    private int _free = slots;

    internal bool TryEnter()
    {
        int f = Volatile.Read(ref _free);
        while (f > 0)
        {
            int seen = Interlocked.CompareExchange(ref _free, f - 1, f);
            if (seen == f) return true;
            f = seen;
        }
        return false;
    }

    internal void Exit() => Interlocked.Increment(ref _free);
}
