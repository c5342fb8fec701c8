using System.Globalization;
using Umem.Client.Sync;

namespace Umem.SyncPeer;

/// <summary>
/// Usage (memory is another process's memfd, as /proc/PID/fd/N):
///   doorbell-echo &lt;mem&gt; &lt;spin&gt; &lt;rounds|0&gt;   ping doorbell at 0, pong at 64: wait for each ping, ring pong
///   doorbell-ping &lt;mem&gt; &lt;spin&gt; &lt;rounds&gt;   the other side: ring ping, wait for pong; prints ns per round trip
///   doorbell-wait &lt;mem&gt; &lt;spin&gt; &lt;last-seen&gt; &lt;timeout-ms&gt;   one wait on the doorbell at 0
///   ring-read &lt;ring&gt; &lt;control|-&gt; &lt;flow 0|1&gt; &lt;seed&gt; &lt;max-read&gt; &lt;bytes|-1&gt; [pause-after]
///       reads the ring (mapped read-only) in random sizes and checks every byte against the test pattern
///   ring-pump &lt;ring&gt; &lt;control&gt; &lt;spin&gt; &lt;seconds&gt;   creates a 1 MiB ring (the files' sizes must fit), waits for
///       a reader, writes 64 KiB chunks for 3 x seconds and prints the rate of each third
///   ring-drain &lt;ring&gt; &lt;control&gt; [spin]   a flow-controlled reader that reads 64 KiB at a time until the end
/// Exit codes: 0 done, 2 timeout, 3 wrong data, 64 usage.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        try
        {
            return args.FirstOrDefault() switch
            {
                "doorbell-echo" when args.Length == 4 => DoorbellEcho(args[1], Int(args[2]), Long(args[3])),
                "doorbell-ping" when args.Length == 4 => DoorbellPing(args[1], Int(args[2]), Long(args[3])),
                "doorbell-wait" when args.Length == 5 => DoorbellWait(args[1], Int(args[2]), uint.Parse(args[3], CultureInfo.InvariantCulture), Int(args[4])),
                "ring-read" when args.Length is 7 or 8 => RingRead(args[1], args[2], args[3] == "1", ulong.Parse(args[4], CultureInfo.InvariantCulture),
                    Int(args[5]), Long(args[6]), args.Length == 8 ? Long(args[7]) : -1),
                "ring-pump" when args.Length == 5 => RingPump(args[1], args[2], Int(args[3]), double.Parse(args[4], CultureInfo.InvariantCulture)),
                "ring-drain" when args.Length is 3 or 4 => RingDrain(args[1], args[2], args.Length == 4 ? Int(args[3]) : SharedDoorbell.DefaultSpinCount),
                _ => Usage(),
            };
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            return 1;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Umem.SyncPeer doorbell-echo|doorbell-wait|ring-read|ring-drain ... (see Program.cs)");
        return 64;
    }

    private static int DoorbellEcho(string path, int spin, long rounds)
    {
        using var mem = new SharedFile(path, writable: true);
        var ping = new SharedDoorbell(mem.Address) { SpinCount = spin };
        var pong = new SharedDoorbell(mem.Address + 64) { SpinCount = spin };
        uint last = 0;   // a fresh doorbell: the first ping may come before this process gets here
        for (long i = 0; rounds == 0 || i < rounds; i++)
        {
            last = ping.Wait(last);
            pong.Ring();
        }
        Console.WriteLine($"spun={ping.WaitsSatisfiedBySpinning} slept={ping.Sleeps} wakes={pong.Wakes}");
        return 0;
    }

    private static int DoorbellPing(string path, int spin, long rounds)
    {
        using var mem = new SharedFile(path, writable: true);
        var ping = new SharedDoorbell(mem.Address) { SpinCount = spin };
        var pong = new SharedDoorbell(mem.Address + 64) { SpinCount = spin };
        uint last = pong.Sequence;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (long i = 0; i < rounds; i++)
        {
            ping.Ring();
            last = pong.Wait(last);
        }
        double ns = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalNanoseconds / rounds;
        Console.WriteLine($"{ns:F0} ns per round trip spun={pong.WaitsSatisfiedBySpinning} slept={pong.Sleeps} wakes={ping.Wakes}");
        return 0;
    }

    private static int DoorbellWait(string path, int spin, uint lastSeen, int timeoutMs)
    {
        using var mem = new SharedFile(path, writable: true);
        var doorbell = new SharedDoorbell(mem.Address) { SpinCount = spin };
        if (!doorbell.TryWait(lastSeen, TimeSpan.FromMilliseconds(timeoutMs), out uint value))
        {
            Console.WriteLine($"timeout value={value}");
            return 2;
        }
        Console.WriteLine($"value={value} spun={doorbell.WaitsSatisfiedBySpinning} slept={doorbell.Sleeps}");
        return 0;
    }

    private static int RingRead(string ringPath, string controlPath, bool flow, ulong seed, int maxRead, long want, long pauseAfter)
    {
        using var ring = new SharedFile(ringPath, writable: false);
        using var control = controlPath == "-" ? null : new SharedFile(controlPath, writable: true);
        using var reader = control == null
            ? SharedRingReader.Open(ring.Address, ring.Length)
            : SharedRingReader.Open(ring.Address, ring.Length, control.Address, control.Length, flow);
        Console.WriteLine($"ready slot={reader.Slot} position={reader.Position}");

        var random = new Xorshift(seed);
        byte[] buffer = new byte[maxRead];
        ulong fnv = 0xcbf29ce484222325;
        long total = 0, overruns = 0, lost = 0;
        bool paused = pauseAfter < 0;
        while (want < 0 || total < want)
        {
            if (!paused && total >= pauseAfter)
            {
                // Stop reading until told to go on (the test overruns this reader meanwhile).
                Console.WriteLine($"paused position={reader.Position}");
                Console.ReadLine();
                paused = true;
            }
            int size = 1 + (int)(random.Next() % (ulong)maxRead);
            if (want >= 0 && size > want - total)
                size = (int)(want - total);
            long start = reader.Position;
            int n;
            try
            {
                n = reader.Read(buffer.AsSpan(0, size));
            }
            catch (SharedRingOverrunException e)
            {
                overruns++;
                lost += reader.SkipToLatest();
                Console.WriteLine($"overrun position={e.Position} lost>={e.LostBytes}");
                continue;
            }
            if (n == 0)
                break;
            for (int i = 0; i < n; i++)
            {
                byte expected = Pattern(start + i);
                if (buffer[i] != expected)
                {
                    Console.WriteLine($"mismatch at {start + i}: got {buffer[i]} expected {expected}");
                    return 3;
                }
                fnv = (fnv ^ buffer[i]) * 0x100000001b3;
            }
            total += n;
        }
        Console.WriteLine($"bytes={total} fnv={fnv:x16} overruns={overruns} lost={lost} spun={reader.WaitsSatisfiedBySpinning} slept={reader.Sleeps}");
        return 0;
    }

    private static int RingPump(string ringPath, string controlPath, int spin, double seconds)
    {
        const int capacity = 1 << 20;
        using var ring = new SharedFile(ringPath, writable: true);
        using var control = new SharedFile(controlPath, writable: true);
        using var writer = SharedRingWriter.Create(ring.Address, ring.Length, capacity, control.Address, control.Length);
        writer.SpinCount = spin;
        Console.WriteLine("ready");
        while (writer.ActiveReaders == 0)
            Thread.Sleep(1);   // setup only: wait for the reader process
        byte[] chunk = GC.AllocateArray<byte>(64 << 10, pinned: true);
        Random.Shared.NextBytes(chunk);
        for (int third = 0; third < 3; third++)
        {
            long chunks = 0, sleeps = writer.Sleeps, wakes = writer.Wakes;
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            while (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
            {
                for (int i = 0; i < 512; i++)
                    writer.Write(chunk);
                chunks += 512;
                writer.WaitUntilRead(TimeSpan.FromSeconds(30));
            }
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            Console.WriteLine($"{elapsed.TotalNanoseconds / chunks:F0} ns per 64 KiB, {chunks * 65536.0 / elapsed.TotalSeconds / 1e9:F2} GB/s, writer sleeps={writer.Sleeps - sleeps} wakes={writer.Wakes - wakes} of {chunks} writes");
        }
        return 0;
    }

    private static int RingDrain(string ringPath, string controlPath, int spin)
    {
        using var ring = new SharedFile(ringPath, writable: false);
        using var control = new SharedFile(controlPath, writable: true);
        using var reader = SharedRingReader.Open(ring.Address, ring.Length, control.Address, control.Length);
        reader.SpinCount = spin;
        Console.WriteLine($"ready slot={reader.Slot} position={reader.Position}");
        byte[] buffer = GC.AllocateUninitializedArray<byte>(64 << 10, pinned: true);
        while (reader.Read(buffer) > 0)
        {
        }
        Console.WriteLine($"bytes={reader.Position} spun={reader.WaitsSatisfiedBySpinning} slept={reader.Sleeps} wakes={reader.Wakes}");
        return 0;
    }

    /// <summary>The byte the tests write at each stream position (umem_pattern in bench/native/sync_pattern.h).</summary>
    internal static byte Pattern(long position) => (byte)(((ulong)position * 0x9E3779B97F4A7C15) >> 56);

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static long Long(string s) => long.Parse(s, CultureInfo.InvariantCulture);

    private struct Xorshift(ulong seed)
    {
        private ulong _state = seed | 1;

        public ulong Next()
        {
            ulong x = _state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            return _state = x;
        }
    }
}
