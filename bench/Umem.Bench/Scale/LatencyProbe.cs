using System.Buffers.Binary;
using System.Diagnostics;
using Umem.Client;

namespace Umem.Bench.Scale;

/// <summary>
/// The probe: one more connection, in the coordinator, that times one-page map requests while the workers hold
/// their connections and mappings idle. Each sample maps another cookie (a stride through all of them), so every
/// request meets a cookie that the workers map too.
/// </summary>
internal sealed class LatencyProbe(UmemDevice device, int cookies) : IDisposable
{
    private const int Stride = 7919; // a prime: the samples walk all cookies before they repeat (unless it divides the count)
    private readonly int _page = Environment.SystemPageSize;
    private readonly List<UmemMapping> _own = [];
    private long _next;

    public UmemDevice Device { get; } = device;

    /// <summary>Mappings the probe itself holds (the per-connection curve).</summary>
    public int OwnMappings => _own.Count;

    /// <summary>Map+unmap, untimed: JIT, tiering and the host's caches settle.</summary>
    public void WarmUp(int requests)
    {
        for (int i = 0; i < requests; i++) Device.Map(NextOffset(out _), _page).Dispose();
    }

    /// <summary>
    /// The time of <see cref="UmemDevice.Map"/> alone (request, devmap in the host, fd passed, mmap here); the
    /// unmap after each sample and the check that the page holds its cookie's number are not timed.
    /// </summary>
    public LatencySeries MeasureMap(int samples)
    {
        var ticks = new long[samples];
        for (int i = 0; i < samples; i++)
        {
            long offset = NextOffset(out int cookie);
            long t0 = Stopwatch.GetTimestamp();
            var m = Device.Map(offset, _page);
            ticks[i] = Stopwatch.GetTimestamp() - t0;
            int seen = BinaryPrimitives.ReadInt32LittleEndian(m.Span);
            m.Dispose();
            if (seen != cookie) throw new InvalidOperationException($"the probe's mapping of device page {cookie} reads {seen}");
        }
        return LatencySeries.From(ticks);
    }

    /// <summary>
    /// Ticks of one whole map request and its unmap (MMAP round trip, mmap here, munmap and MUNMAP, whose reply the
    /// client reads with its next request).
    /// </summary>
    public long TimeMapUnmap()
    {
        long offset = NextOffset(out _);
        long t0 = Stopwatch.GetTimestamp();
        Device.Map(offset, _page).Dispose();
        return Stopwatch.GetTimestamp() - t0;
    }

    /// <summary>Maps more pages on the probe's own connection until it holds <paramref name="n"/>.</summary>
    public void HoldOwn(int n)
    {
        while (_own.Count < n) _own.Add(Device.Map(NextOffset(out _), _page));
    }

    public void ReleaseOwn()
    {
        foreach (var m in _own) m.Dispose();
        _own.Clear();
    }

    private long NextOffset(out int cookie)
    {
        cookie = (int)(_next++ * Stride % cookies);
        return (long)cookie * _page;
    }

    public void Dispose()
    {
        ReleaseOwn();
        Device.Dispose();
    }
}

/// <summary>Latency percentiles of one series, in microseconds (all samples sorted; nearest rank).</summary>
internal sealed record LatencySeries(int Samples, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static LatencySeries From(long[] ticks)
    {
        Array.Sort(ticks);
        double us = 1e6 / Stopwatch.Frequency;
        double At(double q) => ticks[Math.Min(ticks.Length - 1, (int)Math.Ceiling(q * ticks.Length) - 1)] * us;
        return new LatencySeries(ticks.Length, At(0.5), At(0.9), At(0.99), At(0.999), ticks[^1] * us, ticks.Average() * us);
    }
}
