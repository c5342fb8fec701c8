using System.Diagnostics;
using System.Net.Sockets;
using Umem.Host;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>A tiny C peer, built once: connects to the SEQPACKET socket named by its last argument, says so, waits for stdin to close.</summary>
public sealed class PeerPrograms : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
            struct sockaddr_un a = { .sun_family = AF_UNIX };
            if (argc < 2) return 2;
            strncpy(a.sun_path, argv[argc - 1], sizeof a.sun_path - 1);
            if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
            printf("connected %d\n", (int)sizeof(void *));
            fflush(stdout);
            char c;
            while (read(0, &c, 1) > 0) { }
            return 0;
        }
        """;

    public PeerPrograms()
    {
        Directory = TestHost.NewDirectory();
        File.WriteAllText(System.IO.Path.Combine(Directory, "peer.c"), Source);
        Peer64 = Compile("peer64", []) ?? throw new InvalidOperationException("gcc cannot build the 64-bit peer");
        Peer32 = Compile("peer32", ["-m32"]);
    }

    /// <summary>A 0755 directory of root's under /tmp: the programs, and the sockets they connect to.</summary>
    public string Directory { get; }

    public string Peer64 { get; }

    /// <summary>Null without gcc-multilib.</summary>
    public string? Peer32 { get; }

    private string? Compile(string name, string[] flags)
    {
        string output = System.IO.Path.Combine(Directory, name);
        using var gcc = Process.Start(new ProcessStartInfo("gcc", [.. flags, "-O1", "-o", output, System.IO.Path.Combine(Directory, "peer.c")])
        {
            RedirectStandardError = true,
        })!;
        gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        return gcc.ExitCode == 0 ? output : null;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>
/// <see cref="PeerIdentity.Resolve(System.Runtime.InteropServices.SafeHandle)"/> on real child processes: the data
/// model comes from the running image or a trusted emulator, never from a file the client names.
/// </summary>
public sealed class PeerIdentityProcessTests(PeerPrograms programs) : IClassFixture<PeerPrograms>
{
    private const string QemuI386 = "/usr/bin/qemu-i386";
    private const uint Nobody = 65534;
    private static int s_sockets;

    [Fact]
    public void ARealChildIsLP64WithItsOwnCredentials()
    {
        var (socket, child) = Connect(programs.Peer64, s => [s]);
        using (socket)
        using (child)
        {
            var peer = PeerIdentity.Resolve(socket.SafeHandle);
            Assert.Equal((child.Pid, 0u, 0u, DataModel.LP64, (string?)null), (peer.Pid, peer.Uid, peer.Gid, peer.Model, peer.Problem));
            Assert.Equal(PeerIdentity.ParseGroups(File.ReadAllText("/proc/self/status")), peer.Groups);
        }
        (socket, child) = Connect(programs.Peer64, s => [s], Nobody);
        using (socket)
        using (child)
        {
            var peer = PeerIdentity.Resolve(socket.SafeHandle);
            Assert.Equal((child.Pid, Nobody, Nobody, DataModel.LP64, (string?)null), (peer.Pid, peer.Uid, peer.Gid, peer.Model, peer.Problem));
            Assert.Empty(peer.Groups); // setpriv --clear-groups
        }
    }

    [Theory]
    [InlineData("qemu-i386")] // a real emulator's name, an untrusted file
    [InlineData("qemu-x")]
    public void AProgramNamedLikeAnEmulatorOutsideTheSystemDirectoriesIsItsOwnClass(string name)
    {
        string dir = NewDirectory();
        string fake = Path.Combine(dir, name);
        File.Copy(programs.Peer64, fake);
        string guest = Path.Combine(dir, "guest32");
        File.WriteAllBytes(guest, [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1, 0]); // an ELF32 header
        var (socket, child) = Connect(fake, s => [guest, s]); // qemu-i386 ./guest32 SOCKET, to the old reading
        using (socket)
        using (child)
        {
            var peer = PeerIdentity.Resolve(socket.SafeHandle);
            Assert.Equal(DataModel.LP64, peer.Model);
            if (name == "qemu-i386") Assert.Contains("not a trusted one", peer.Problem, StringComparison.Ordinal);
            else Assert.Null(peer.Problem);
        }
    }

    [Fact]
    public void AFifoNamedAsTheGuestNeverBlocksIdentity()
    {
        string dir = NewDirectory();
        string fake = Path.Combine(dir, "qemu-i386");
        File.Copy(programs.Peer64, fake);
        string fifo = Path.Combine(dir, "guest");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        var (socket, child) = Connect(fake, s => ["-L", "/", fifo, s]); // the guest, to the old reading of the command line
        using (socket)
        using (child)
        {
            IdentifiedPeer? peer = null;
            var time = Stopwatch.StartNew();
            var identify = new Thread(() => peer = PeerIdentity.Resolve(socket.SafeHandle)) { IsBackground = true };
            identify.Start();
            Assert.True(identify.Join(TimeSpan.FromSeconds(10)), "identity blocked on the FIFO the client named");
            TestContext.Current.TestOutputHelper?.WriteLine($"identity of a client naming a FIFO as its guest: {time.Elapsed.TotalMilliseconds:F2} ms");
            Assert.Equal(DataModel.LP64, peer?.Model);
        }
    }

    [Fact]
    public void A32BitProgramUnderTheTrustedEmulatorIsILP32()
    {
        Assert.SkipWhen(!File.Exists(QemuI386), "qemu-i386 is not installed (Debian: apt-get install qemu-user)");
        Assert.SkipWhen(programs.Peer32 is null, "gcc -m32 cannot link (Debian: apt-get install gcc-multilib)");
        var (socket, child) = Connect(QemuI386, s => ["-L", "/", programs.Peer32!, s], expectedPointerSize: 4);
        using (socket)
        using (child)
        {
            var peer = PeerIdentity.Resolve(socket.SafeHandle);
            Assert.Equal((child.Pid, DataModel.ILP32, (string?)null), (peer.Pid, peer.Model, peer.Problem));
        }
        using var trusted = TrustedPath.Open(QemuI386, 0, out var status);
        Assert.Equal(QemuI386, PeerIdentity.FindTrustedEmulator("qemu-i386", status));
        Assert.Null(PeerIdentity.FindTrustedEmulator("qemu-x86_64", status)); // another file
    }

    [Fact]
    public void WithoutSoPeerPidfdTheFallbackSaysSo()
    {
        var (socket, child) = Connect(programs.Peer64, s => [s]);
        using (socket)
        using (child)
        {
            using (var pidfd = PeerProcess.GetPidfd(socket.SafeHandle)) // Linux 6.5+: this machine's kernel has it
            {
                Assert.NotNull(pidfd);
                Assert.True(PeerProcess.IsAlive(pidfd));
            }
            var peer = PeerIdentity.Resolve(socket.SafeHandle, usePeerPidfd: false);
            Assert.Equal((child.Pid, DataModel.LP64), (peer.Pid, peer.Model));
            Assert.Contains("SO_PEERPIDFD", peer.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void APeerThatExitedIsNotIdentified()
    {
        var (socket, child) = Connect(programs.Peer64, s => [s]);
        using (socket)
        using (child)
        {
            using var pidfd = PeerProcess.GetPidfd(socket.SafeHandle)!;
            child.Kill();
            child.WaitForExit(); // reaped: its pid may now be reused
            Assert.False(PeerProcess.IsAlive(pidfd));
            var e = Assert.Throws<ErrnoException>(() => PeerIdentity.Resolve(socket.SafeHandle));
            Assert.Equal(Errno.ESRCH, e.Errno);
        }
    }

    [Fact]
    public void ThisProcessThroughASocketPair()
    {
        var (a, b) = SeqPacketChannel.CreatePair();
        using (a)
        using (b)
        {
            var peer = PeerIdentity.Resolve(b.Handle);
            Assert.Equal((Environment.ProcessId, ProcessHardening.EffectiveUid, DataModel.LP64, (string?)null),
                (peer.Pid, peer.Uid, peer.Model, peer.Problem));
        }
    }

    private string NewDirectory()
    {
        string dir = Path.Combine(programs.Directory, $"d{Interlocked.Increment(ref s_sockets)}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Starts <paramref name="file"/> with the arguments made from a fresh socket's path; returns the accepted end.</summary>
    private (Socket Accepted, ChildProcess Child) Connect(string file, Func<string, string[]> args, uint? uid = null, int expectedPointerSize = 8)
    {
        string path = Path.Combine(programs.Directory, $"s{Interlocked.Increment(ref s_sockets)}");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, TestHost.Mode0666);
        listener.Listen();
        var child = ChildProcess.Start(file, args(path), uid, programs.Directory);
        try
        {
            Assert.Equal($"connected {expectedPointerSize}", child.ReadLine());
            return (listener.Accept(), child);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }
}
