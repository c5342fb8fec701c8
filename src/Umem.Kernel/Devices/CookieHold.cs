using Umem.Kernel.Memory;

namespace Umem.Kernel.Devices;

/// <summary>
/// One export reference on a cookie (<see cref="UmemCookie.TryAddReference"/>), shared by every piece a devmap
/// handle is split into and by exports in flight. The allocator refuses new references once the driver has freed
/// the cookie, yet a hole unmap of a freed-but-mapped cookie splits a handle in two; sharing one reference between
/// the pieces keeps the memory exactly as long as any piece (or export) needs it.
/// </summary>
internal sealed class CookieHold
{
    private int _count = 1;

    private CookieHold(UmemCookie cookie) => Cookie = cookie;

    internal UmemCookie Cookie { get; }

    /// <summary>A new hold, or null when the cookie was freed (or is being).</summary>
    internal static CookieHold? TryTake(UmemCookie cookie) => cookie.TryAddReference() ? new CookieHold(cookie) : null;

    internal void AddRef()
    {
        int seen = Volatile.Read(ref _count);
        while (true)
        {
            if (seen <= 0) throw new InvalidOperationException($"hold on {Cookie} used after release");
            int was = Interlocked.CompareExchange(ref _count, seen + 1, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    internal void Release()
    {
        int left = Interlocked.Decrement(ref _count);
        if (left == 0) Cookie.Release();
        else if (left < 0) throw new InvalidOperationException($"hold on {Cookie} released twice");
    }
}
