using System.Diagnostics;
using Umem.Kernel;
using Umem.Tests.Host;

namespace Umem.Tests.Attacks;

/// <summary>
/// Identity tricks by <c>nobody</c> against the real host (in this process, so its sessions can be read): copies of
/// a 64-bit program named <c>qemu-i386</c> in /tmp, started with an ELF32 file or a FIFO where an emulator's guest
/// would be. Each connection is identified LP64 at once (the host opens neither argument), and the bystander
/// goes on. The directory take-over: a device directory whose parent nobody made first is refused.
/// </summary>
[Collection(nameof(AttackCollection))]
public sealed class IdentityAttackTests(PeerPrograms programs, ITestOutputHelper output) : IClassFixture<PeerPrograms>
{
    private const uint Nobody = FloodAttackTests.Nobody;
    private const int Peers = 20, Rounds = 300;

    [Fact]
    public async Task FakeEmulatorsNamingElf32FilesAndFifosAreLP64AtOnceAndTheBystanderGoesOn()
    {
        await using var host = TestHost.Start();
        string dir = Path.Combine(programs.Directory, "fake-emulators");
        Directory.CreateDirectory(dir);
        string fake = Path.Combine(dir, "qemu-i386");
        File.Copy(programs.Peer64, fake);
        string elf32 = Path.Combine(dir, "guest32");
        File.WriteAllBytes(elf32, [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1, 0]);
        string fifo = Path.Combine(dir, "guest");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();

        Bystander.Measure(host.Path, 50);
        var before = Bystander.Measure(host.Path, Rounds);
        int fdsBefore = OwnFds;
        using var bystander = new Bystander(host.Path);
        bystander.Start();
        var peers = new List<ChildProcess>();
        try
        {
            var time = Stopwatch.StartNew();
            for (int i = 0; i < Peers; i++)
            {
                string[] args = i % 2 == 0 ? [elf32, host.Path] : ["-L", "/", fifo, host.Path]; // qemu-i386 [-L /] GUEST SOCKET
                peers.Add(ChildProcess.Start(fake, args, Nobody, dir));
            }
            foreach (var peer in peers) Assert.Equal("connected 8", peer.ReadLine());
            var pids = peers.Select(p => p.Pid).ToHashSet();
            List<Cred> creds = [];
            Eventually.WaitUntil(() => (creds = [.. host.Host.Sessions.Select(s => s.Cred).Where(c => pids.Contains(c.Pid))]).Count == Peers,
                "every fake emulator identified");
            double identifiedMs = time.Elapsed.TotalMilliseconds;
            Assert.All(creds, c => Assert.Equal((Nobody, DataModel.LP64), (c.Uid, c.Model)));
            int fdsDuring = OwnFds;
            bystander.WaitForRounds(bystander.Rounds, Rounds);
            int connections = host.Host.ConnectionCount;
            var during = bystander.Stop();

            foreach (var peer in peers) peer.Dispose();
            peers.Clear();
            int fdsAfter = 0;
            Eventually.WaitUntil(() => host.Host.ConnectionCount == 0 && (fdsAfter = OwnFds) <= fdsBefore, $"the fake emulators released, sockets back to {fdsBefore}");
            Assert.InRange(fdsDuring - fdsAfter, Peers, Peers + 4); // one per peer (and the bystander's ends, this round's and the last's)
            var later = Bystander.Measure(host.Path, 20);

            output.WriteLine($"{Peers} fake qemu-i386 peers (ELF32 or FIFO guest) by nobody: all LP64, identified within {identifiedMs:F0} ms of the first start; {connections} connections held");
            output.WriteLine($"bystander without attack: {before}");
            output.WriteLine($"bystander during attack:  {during}; p99 {during.P99 / before.P99:F2}x");
            output.WriteLine($"bystander after:          {later}");
            output.WriteLine($"test process (host) sockets: before {fdsBefore}, during {fdsDuring}, after {fdsAfter}");
        }
        finally
        {
            foreach (var peer in peers) peer.Dispose();
        }
    }

    [Fact]
    public void AParentDirectoryNobodyMadeFirstStopsTheHost()
    {
        string root = TestHost.NewDirectory();
        try
        {
            string tmp = Path.Combine(root, "tmp"); // a /tmp of its own: root's, 1777
            Directory.CreateDirectory(tmp);
            File.SetUnixFileMode(tmp, (UnixFileMode)Convert.ToInt32("1777", 8));
            string umem = Path.Combine(tmp, "umem");
            using (var mkdir = ChildProcess.Start("mkdir", [umem], Nobody)) Assert.Equal(0, mkdir.WaitForExit());

            using var host = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "host", "--dev-dir", Path.Combine(umem, "dev")]);
            string said = string.Join('\n', host.ReadToEnd()) + host.StandardError;
            Assert.NotEqual(0, host.WaitForExit());
            output.WriteLine(said);
            Assert.Contains($"{umem} is owned by uid {Nobody}", said, StringComparison.Ordinal);
            Assert.Contains("remove it or choose another device directory (umem host --dev-dir)", said, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(umem, "dev"))); // nothing made in nobody's directory
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // The host is this process: its connections are its sockets (the children's pipes are the test's own).
    private static int OwnFds => FloodHostProcess.CountFds(Environment.ProcessId, socketsOnly: true);
}
