using System.Diagnostics;
using System.Globalization;

namespace Umem.Tests.Attacks;

/// <summary>
/// Floods by <c>nobody</c> (TestApp <c>flood</c>, raw messages) against a real host process, each until the limit
/// that stops it refuses, while a bystander of another uid (root, this process) keeps working. Each test asserts
/// the refusal's errno, that the bystander's every request succeeded, what the host holds meanwhile (its fds),
/// and that it is back to its baseline and serving new clients once the attacker is gone. The bystander's latency
/// with and without the attack is reported (docs/reliability.md), never asserted.
/// </summary>
[Collection(nameof(AttackCollection))]
public sealed class FloodAttackTests(ITestOutputHelper output)
{
    internal const uint Nobody = 65534;
    private const int Rounds = 300;

    // What the bystander's connection in flight holds in the host meanwhile: its socket, the previous rounds' still
    // closing (two of them at a load average above 30: the host releases a connection when its thread next runs),
    // and the pidfd and /proc/PID directory that identify it.
    private const int Slack = 6;

    [Fact]
    public void ConnectionFloodIsCappedPerUidAndRootIsNeverRefused()
    {
        const int Limit = 64;
        using var host = FloodHostProcess.Start($"MaxConnectionsPerUid={Limit}");
        var f = Run(host, "connections", "200");
        Assert.Equal((Limit.ToString(CultureInfo.InvariantCulture), "136", "closed"), (f.Results["accepted"], f.Results["refused"], f.Results["first-refusal"]));
        Assert.InRange(f.FdsDuring - f.FdsAfter, Limit, Limit + Slack); // one descriptor per admitted connection, none kept for a refused one
        Assert.Equal("0", f.HungUp); // the admitted ones are still served
        Assert.Equal(0, host.Stop()); // a graceful stop
    }

    [Fact]
    public void ConnectionFloodStopsAtTheDescriptorReserveAndRootIsServed()
    {
        // A host whose RLIMIT_NOFILE is 512 keeps 64 free (its reserve) for itself and root: nobody's connections
        // are refused well before the host runs out, while the bystander (root) connects every round.
        const int FileLimit = 512, Reserve = 64;
        using var host = FloodHostProcess.Start($"nofile={FileLimit}");
        var f = Run(host, "connections", "800");
        int accepted = int.Parse(f.Results["accepted"], CultureInfo.InvariantCulture);
        output.WriteLine($"fd reserve: {accepted} of nobody's 800 connections accepted under RLIMIT_NOFILE {FileLimit}");
        Assert.InRange(accepted, FileLimit / 2, FileLimit - Reserve);
        Assert.Equal((Str(800 - accepted), "closed"), (f.Results["refused"], f.Results["first-refusal"]));
        Assert.InRange(f.FdsDuring, 0, FileLimit - Reserve + Slack); // the reserve stayed free
        Assert.Equal("0", f.HungUp);
        Assert.Equal(0, host.Stop());
    }

    [Fact]
    public void MappingFloodKeepsNoDescriptorPerMappingAndIsCappedPerConnection()
    {
        const int Connections = 4, Limit = 5000;
        using var host = FloodHostProcess.Start($"MaxMappingsPerConnection={Limit}");
        var f = Run(host, "maps", Str(Connections), Str(Limit + 1));
        Assert.Equal((Str(Connections * Limit), "ENOMEM"), (f.Results["mapped"], f.Results["errno"]));
        // 20,000 read-only mappings (each an O_RDONLY reopen when exported): only the connections hold descriptors.
        Assert.InRange(f.FdsDuring - f.FdsAfter, Connections, Connections + Slack);
        Assert.Equal(0, host.Stop()); // a graceful stop
    }

    [Fact]
    public void OpenFloodIsRefusedWithEmfileAndTheConnectionGoesOn()
    {
        using var host = FloodHostProcess.Start(); // MaxOpensPerConnection: the default, 1,024
        var f = Run(host, "opens", "2000");
        Assert.Equal(("1024", "EMFILE", "OK"), (f.Results["opened"], f.Results["errno"], f.Results["served"]));
        Assert.InRange(f.FdsDuring - f.FdsAfter, 1, 1 + Slack);
        Assert.Equal(0, host.Stop()); // a graceful stop
    }

    [Fact]
    public void RegistrationFloodIsCappedPerConnectionAndTheAddressSpaceComesBack()
    {
        const long Gib4 = 4L << 30;
        using var host = FloodHostProcess.Start(); // MaxRegisteredBytesPerConnection: the default, 16 GiB
        long vmBefore = host.VmSize;
        long vmDuring = 0;
        var f = Run(host, "register", ["2", "8", Str(Gib4)], () => vmDuring = host.VmSize);
        Assert.Equal(("8", Str(8 * Gib4), "ENOMEM"), (f.Results["registered"], f.Results["bytes"], f.Results["errno"]));
        Assert.True(vmDuring - vmBefore >= 8 * Gib4, $"the host maps every registered buffer: VmSize grew {vmDuring - vmBefore} bytes");
        long vmAfter = 0;
        Eventually.WaitUntil(() => (vmAfter = host.VmSize) - vmBefore < Gib4, "the host's address space back after the attacker left");
        output.WriteLine($"host VmSize: before {Gib(vmBefore)}, during {Gib(vmDuring)}, after {Gib(vmAfter)}");
        Assert.Equal(0, host.Stop());
    }

    [Fact]
    public void SlowReadersDoNotStallOtherClients()
    {
        using var host = FloodHostProcess.Start();
        var f = Run(host, "slow", "200", "8");
        output.WriteLine($"slow readers: {f.Results["sent"]} requests sent");
        // The bystander's rounds were all done while every slow reader still held its connection: it was served
        // during the attack, not after the host's SendTimeout had dropped the attackers.
        Assert.Equal("0", f.HungUp);
    }

    [Fact]
    public void ControlAnAttackerThatOnlyBurnsCpu()
    {
        // Not an attack: nobody spins one CPU for half a second without talking to the host. The bystander's figures
        // against the floods' show how much of their tail is sharing 2 CPUs with the attacker (docs/reliability.md).
        using var host = FloodHostProcess.Start();
        var f = Run(host, "burn", "500");
        Assert.InRange(f.FdsDuring - f.FdsAfter, 0, Slack);
        Assert.Equal(0, host.Stop());
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F2} GiB";

    private Figures Run(FloodHostProcess host, string kind, params string[] args) => Run(host, kind, args, null);

    /// <summary>
    /// The attack <paramref name="kind"/> by nobody while the bystander works: baseline, attack until it holds,
    /// <see cref="Rounds"/> more bystander rounds, the host's fds, then the attacker leaves and the host must come
    /// back to its baseline and serve a new client. <paramref name="whileHolding"/> looks at the host meanwhile. The
    /// host goes on running (each test stops it).
    /// </summary>
    private Figures Run(FloodHostProcess host, string kind, string[] args, Action? whileHolding)
    {
        Bystander.Measure(host.Path, 50); // warm-up: JIT, pools, the first thread-pool threads
        var before = Bystander.Measure(host.Path, Rounds);
        int fdsBefore = host.Fds, threadsBefore = host.Threads;
        double cpuBefore = host.CpuMs;

        // The attacker starts (a .NET process: JIT, start-up) before the bystander's window opens; the window covers
        // the attack itself and the holding after it.
        using var attacker = ChildProcess.StartTestApp(Nobody, ["flood", kind, host.Path, .. args]);
        attacker.ReadUntil("ready");
        using var bystander = new Bystander(host.Path);
        bystander.Start();
        var time = Stopwatch.StartNew();
        attacker.Send("go");
        var results = new Dictionary<string, string>();
        string line;
        while ((line = attacker.ReadLine()) != "holding")
        {
            string[] kv = line.Split(' ', 2);
            results[kv[0]] = kv.Length > 1 ? kv[1] : "";
        }
        double attackMs = time.Elapsed.TotalMilliseconds;
        bystander.WaitForRounds(bystander.Rounds, Rounds);
        int fdsDuring = host.Fds, threadsDuring = host.Threads;
        double cpuDuring = host.CpuMs - cpuBefore; // the attack's and the bystander's rounds meanwhile
        whileHolding?.Invoke();
        string hungUp = attacker.Command("status").Split(' ')[1];
        var during = bystander.Stop(out var connects);

        attacker.CloseInput();
        Assert.Equal(0, attacker.WaitForExit());
        time.Restart();
        int fdsAfter = 0;
        Eventually.WaitUntil(() => (fdsAfter = host.Fds) <= fdsBefore, $"the host's fds back to {fdsBefore}");
        double releaseMs = time.Elapsed.TotalMilliseconds;
        var later = Bystander.Measure(host.Path, 20); // a new client is served

        output.WriteLine($"flood {kind} {string.Join(' ', args)} by nobody: {string.Join(", ", results.Select(r => $"{r.Key} {r.Value}"))} ({attackMs:F0} ms to hold)");
        output.WriteLine($"bystander without attack: {before}");
        output.WriteLine($"bystander during attack:  {during}; p99 {during.P99 / before.P99:F2}x");
        output.WriteLine($"  of which connect + HELLO + OPEN: {connects}");
        output.WriteLine($"bystander after:          {later}");
        output.WriteLine($"host fds: before {fdsBefore}, during {fdsDuring}, after {fdsAfter} ({releaseMs:F0} ms after the attacker left)");
        output.WriteLine($"host: {cpuDuring:F0} ms of CPU from the attacker's start to the bystander's last round ({during.Rounds} rounds); threads {threadsBefore} before, {threadsDuring} during");
        return new Figures(results, fdsDuring, fdsAfter, hungUp);
    }

    /// <summary>What the attacker reported, and the host's fds while it held and once it was gone (the settled baseline:
    /// the bystander's last connection may still be closing when the "before" count is taken).</summary>
    private sealed record Figures(Dictionary<string, string> Results, int FdsDuring, int FdsAfter, string HungUp);
}
