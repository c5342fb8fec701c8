using System.Diagnostics;
using Umem.Client;
using Umem.Platform;
using Umem.TestDrivers;

namespace Umem.Tests.Attacks;

/// <summary>p50/p99/max of a bystander's rounds, in milliseconds.</summary>
internal readonly record struct Latency(int Rounds, double P50, double P99, double Max)
{
    internal static Latency Of(List<double> ms)
    {
        if (ms.Count == 0) return default;
        var sorted = ms.Order().ToArray();
        return new Latency(sorted.Length, sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], sorted[^1]);
    }

    public override string ToString() => $"{Rounds} rounds, p50 {P50:F2} ms, p99 {P99:F2} ms, max {Max:F2} ms";
}

/// <summary>
/// A well-behaved client (this test process: root, another uid than the attacker's) working in a loop while an
/// attack runs: each round connects, opens, maps a read-write page, touches it, unmaps it, issues an IOCTL and
/// closes, so every path the attacker could clog (accept, identity, open, map, unmap, ioctl, release) is timed.
/// Every request must succeed: a failure ends the loop and is rethrown by <see cref="Stop()"/>.
/// </summary>
internal sealed class Bystander(string path) : IDisposable
{
    private readonly List<double> _rounds = [];
    private readonly List<double> _connects = [];
    private readonly Lock _gate = new();
    private Thread? _thread;
    private volatile bool _stop;
    private Exception? _failure;

    /// <summary>Rounds completed since <see cref="Start"/>.</summary>
    internal int Rounds
    {
        get
        {
            lock (_gate) return _rounds.Count;
        }
    }

    /// <summary>The latency of <paramref name="rounds"/> rounds run on this thread, with nothing else going on.</summary>
    internal static Latency Measure(string path, int rounds)
    {
        var ms = new List<double>(rounds);
        for (int i = 0; i < rounds; i++) ms.Add(Round(path, out _));
        return Latency.Of(ms);
    }

    internal void Start()
    {
        _thread = new Thread(() =>
        {
            try
            {
                while (!_stop)
                {
                    double ms = Round(path, out double connectMs);
                    lock (_gate)
                    {
                        _rounds.Add(ms);
                        _connects.Add(connectMs);
                    }
                }
            }
            catch (Exception e)
            {
                _failure = e;
            }
        })
        { IsBackground = true, Name = "bystander" };
        _thread.Start();
    }

    /// <summary>Waits until <paramref name="more"/> rounds beyond the <paramref name="since"/>th are done (the guard only stops a hang).</summary>
    internal void WaitForRounds(int since, int more) =>
        Eventually.WaitUntil(() => _failure is not null || Rounds >= since + more, $"{more} bystander rounds");

    /// <summary>Stops the loop; the latency of every round since <see cref="Start"/>. Throws what a failed request threw.</summary>
    internal Latency Stop() => Stop(out _);

    /// <summary>
    /// <see cref="Stop()"/>, and the latency of the rounds' first step alone (connect, HELLO, OPEN: what waits for
    /// the host's accept and identification), to tell where a tail falls.
    /// </summary>
    internal Latency Stop(out Latency connects)
    {
        _stop = true;
        _thread?.Join();
        if (_failure is not null) throw new InvalidOperationException($"the bystander's request failed after {Rounds} rounds", _failure);
        lock (_gate)
        {
            connects = Latency.Of(_connects);
            return Latency.Of(_rounds);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
    }

    private static double Round(string path, out double connectMs)
    {
        var time = Stopwatch.StartNew();
        using (var device = UmemDevice.Open(path))
        {
            connectMs = time.Elapsed.TotalMilliseconds;
            using (var m = device.Map(0, SystemPage.Size, Prot.ReadWrite))
                m.Span[0]++;
            Span<byte> echo = stackalloc byte[4];
            var r = device.Ioctl(TestDeviceDriver.IoctlEcho, [1, 2, 3, 4], echo);
            if (r.Rval != 4 || echo[3] != 4) throw new InvalidOperationException($"IOCTL echo answered {r.Rval}");
        }
        return time.Elapsed.TotalMilliseconds;
    }
}
