using System.Diagnostics;
using System.Globalization;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>Applications in other processes (TestApp children), some as another uid, against a real host.</summary>
public sealed class MultiProcessTests(ITestOutputHelper output)
{
    private static readonly int Page = SystemPage.Size;
    private const uint Nobody = 65534;

    [Fact]
    public async Task TwoApplicationsAndTheDriverShareThePages()
    {
        await using var host = TestHost.Start();
        using var a = ChildProcess.StartTestApp(null, "client");
        using var b = ChildProcess.StartTestApp(null, "client");
        foreach (var c in new[] { a, b })
        {
            c.Ok($"open {host.Path}");
            Assert.Equal("0", c.Ok($"map 0 {2 * Page} rw"));
        }
        host.Driver.Kernel(Page + 3, 1)[0] = 0x41; // the driver writes
        Assert.Equal("65", a.Ok("get 0 " + (Page + 3)));
        Assert.Equal("65", b.Ok("get 0 " + (Page + 3)));
        a.Ok("fill 0 100 8 7"); // one application writes
        Assert.Equal("7", b.Ok("get 0 107"));
        Assert.Equal(7, host.Driver.Kernel(107, 1)[0]);
        b.Ok("ioctl 2 0000000009 0"); // the driver fills page 0 with 9 on request
        Assert.Equal("9", a.Ok("get 0 0"));
        var pids = host.Driver.Opened.Select(c => c.Pid).ToHashSet();
        Assert.Contains(a.Pid, pids);
        Assert.Contains(b.Pid, pids);
    }

    [Fact]
    public async Task AReadOnlyGrantHoldsAgainstAHostileClientOfAnotherUid()
    {
        await using var host = TestHost.Start([3, 3, 1, 1]);
        host.Driver.Kernel(2 * Page, Page).Fill(0x3C);
        using var bystander = ChildProcess.StartTestApp(null, "client"); // a well-behaved application, busy meanwhile
        bystander.Ok($"open {host.Path}");
        bystander.Ok($"map 0 {Page} rw");
        bystander.Ok("fill 0 0 8 21");
        using var attacker = ChildProcess.StartTestApp(Nobody, "attack", host.Path, (2 * Page).ToString(CultureInfo.InvariantCulture),
            Page.ToString(CultureInfo.InvariantCulture), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var lines = attacker.ReadToEnd();
        Assert.Equal(0, attacker.WaitForExit());
        output.WriteLine(string.Join('\n', lines));
        var results = lines.Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("ENXIO", results["mmap-request-write"]); // devmap_umem_setup(9F) refuses PROT_WRITE beyond maxprot
        AttackExpectations.ReadOnlyGrantHeld(results, Page); // one page of a two-page region
        AttackExpectations.ReadWriteGrantSealed(results);
        Assert.Equal("EACCES", results["hostfd"]);
        Assert.Equal("done", lines[^1]);
        // Nothing reached the device: not the private write, not a punch.
        Assert.True(host.Driver.Kernel(2 * Page, Page).IndexOfAnyExcept((byte)0x3C) < 0);
        // The host survived, the bystander was not disturbed, new clients are served, the attacker's state was released.
        Assert.Equal("21", bystander.Ok("get 0 7"));
        bystander.Ok("fill 0 0 1 22");
        Assert.Equal(22, host.Driver.Kernel(0, 1)[0]);
        Assert.Equal("1", bystander.Ok($"map {2 * Page} {Page} r")); // its second mapping
        using var device = Umem.Client.UmemDevice.Open(host.Path);
        using var m = device.Map(0, Page);
        Assert.Equal(22, m.Span[0]);
        Eventually.WaitUntil(() => host.Host.ConnectionCount == 2, "the attacker's connection released");
    }

    [Fact]
    public async Task NodePermissionsAreTheFirstCheck()
    {
        var mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        await using var host = TestHost.Start(mode: mode0644);
        var socketMode = File.GetUnixFileMode(host.Path);
        Assert.Equal(TestHost.Mode0666, socketMode); // connect(2) needs w: every class that may open gets rw on the socket
        using var c = ChildProcess.StartTestApp(Nobody, "client");
        Assert.StartsWith("err EACCES", c.Command($"open {host.Path} rw"), StringComparison.Ordinal); // the node's mode, checked at OPEN
        Assert.StartsWith("ok", c.Command($"open {host.Path} r"), StringComparison.Ordinal);
        Assert.StartsWith("ok", c.Command($"map 0 {Page} r"), StringComparison.Ordinal);

        var mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var privateHost = TestHost.Start(mode: mode0600);
        Assert.StartsWith("err EACCES", c.Command($"open {privateHost.Path} r"), StringComparison.Ordinal); // connect(2) refused by the file
        await using var owned = TestHost.Start(mode: mode0600, owner: Nobody, group: Nobody);
        Assert.StartsWith("ok", c.Command($"open {owned.Path} rw"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASupplementaryGroupOpensANodeOfThatGroup()
    {
        // 0660 root:4242: nobody with 4242 as a supplementary group may connect (the socket's mode, checked by Linux)
        // and open (the node's mode, checked by the kernel's one spec_open-like check, groupmember(9F)).
        const uint Group = 4242;
        var mode0660 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        await using var host = TestHost.Start(mode: mode0660, owner: 0, group: Group);
        using var member = ChildProcess.StartTestAppWithGroups(Nobody, [Group], "client");
        member.Ok($"open {host.Path} rw");
        member.Ok($"map 0 {Page} rw");
        member.Ok("fill 0 0 1 9");
        Assert.Equal(9, host.Driver.Kernel(0, 1)[0]);
        var cred = host.Driver.Opened.Single(x => x.Pid == member.Pid);
        Assert.Equal([Group], cred.Groups);

        using var stranger = ChildProcess.StartTestApp(Nobody, "client");
        Assert.StartsWith("err EACCES", stranger.Command($"open {host.Path} r"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneUserCannotTakeEveryConnection()
    {
        // Two connections per uid: nobody's third is closed at once, root is never refused, and nobody gets its
        // place back when one of its connections ends.
        await using var host = TestHost.Start(options: new Umem.Host.DeviceHostOptions { MaxConnectionsPerUid = 2 });
        using var first = ChildProcess.StartTestApp(Nobody, "client");
        using var second = ChildProcess.StartTestApp(Nobody, "client");
        using var third = ChildProcess.StartTestApp(Nobody, "client");
        first.Ok($"open {host.Path} r");
        second.Ok($"open {host.Path} r");
        Assert.StartsWith("err ", third.Command($"open {host.Path} r"), StringComparison.Ordinal);
        using var root = ChildProcess.StartTestApp(null, "client");
        root.Ok($"open {host.Path}");
        root.Ok($"map 0 {Page} rw");
        first.CloseInput();
        Assert.Equal(0, first.WaitForExit());
        Eventually.WaitUntil(() => host.Host.ConnectionCount == 2, "nobody's first connection to be released");
        third.Ok($"open {host.Path} r");
    }

    [Fact]
    public async Task AKilledClientIsReleasedPromptly()
    {
        await using var host = TestHost.Start();
        using var c = ChildProcess.StartTestApp(null, "client");
        c.Ok($"open {host.Path}");
        c.Ok($"map 0 {2 * Page} rw");
        c.Ok($"map {2 * Page} {Page} r");
        c.Ok("register 8192");
        Assert.Equal(2, host.LiveMappings);
        Assert.Equal(1, host.LiveBuffers);
        long before = host.Host.ConnectionsClosed;
        var watch = Stopwatch.StartNew();
        c.Kill(); // SIGKILL: no goodbye
        Eventually.WaitUntil(() => host.Host.ConnectionsClosed > before, "the host to notice the dead client");
        watch.Stop();
        output.WriteLine($"released {watch.Elapsed.TotalMilliseconds:F1} ms after SIGKILL");
        Assert.Equal((0L, 0L, 0L), (host.LiveMappings, host.LiveBuffers, host.Driver.LiveOpens));
        Assert.Equal(0, host.Host.ConnectionCount);
    }

    [Fact]
    public void WhenTheHostDiesMappingsStayValidAndTheNextCallFails()
    {
        string dir = TestHost.NewDirectory();
        try
        {
            using var hostProcess = ChildProcess.StartTestApp(null, "host", dir);
            string path = hostProcess.ReadUntil("ready").Split(' ')[2];
            using var c = ChildProcess.StartTestApp(null, "client");
            c.Ok($"open {path}");
            c.Ok($"map 0 {Page} rw");
            c.Ok("fill 0 0 16 5");
            hostProcess.Kill();
            hostProcess.WaitForExit();
            Assert.Equal("5", c.Ok("get 0 15")); // still memory, no SIGBUS: the memfd pages live on
            c.Ok("fill 0 0 1 6");
            Assert.Equal("6", c.Ok("get 0 0"));
            string answer = c.Command("ioctl 1 01 4");
            Assert.Matches("^err (ECONNRESET|EPIPE) ", answer);
            Assert.StartsWith("err", c.Command($"map 0 {Page} rw"), StringComparison.Ordinal);
            Assert.Equal("6", c.Ok("get 0 0"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AHostThatStopsEndsEveryConnectionAndReleasesIt()
    {
        var host = TestHost.Start();
        using var c = ChildProcess.StartTestApp(null, "client");
        c.Ok($"open {host.Path}");
        c.Ok($"map 0 {Page} rw");
        c.Ok("fill 0 0 1 8");
        await host.Host.DisposeAsync(); // waits until each connection is released
        Assert.Equal((0, 0L), (host.LiveMappings, host.Driver.LiveOpens));
        Assert.False(File.Exists(host.Path));
        Assert.Equal("8", c.Ok("get 0 0"));
        Assert.Matches("^err (ECONNRESET|EPIPE) ", c.Command("ioctl 1 01 4"));
        await host.DisposeAsync();
    }

    [Fact]
    public async Task TheDataModelOfA64BitClient()
    {
        await using var host = TestHost.Start();
        using var c = ChildProcess.StartTestApp(null, "client");
        c.Ok($"open {host.Path}");
        var cred = host.Driver.Opened.Single(x => x.Pid == c.Pid);
        Assert.Equal((DataModel.LP64, 0u, 0u), (cred.Model, cred.Uid, cred.Gid));
        using var n = ChildProcess.StartTestApp(Nobody, "client");
        n.Ok($"open {host.Path} r");
        cred = host.Driver.Opened.Single(x => x.Pid == n.Pid);
        Assert.Equal((DataModel.LP64, Nobody, Nobody), (cred.Model, cred.Uid, cred.Gid));
    }

    [Fact]
    public async Task TheDataModelOfA32BitClientUnderEmulation()
    {
        string? qemu = FindOnPath("qemu-i386");
        Assert.SkipWhen(qemu is null, "qemu-i386 is not installed (Debian package qemu-user): 32-bit clients cannot run on this kernel without it");
        await using var host = TestHost.Start();
        string dir = TestHost.NewDirectory();
        try
        {
            string source = Path.Combine(dir, "client32.c");
            File.WriteAllText(source, Client32Source);
            using (var gcc = ChildProcess.Start("gcc", ["-m32", "-O1", "-o", Path.Combine(dir, "client32"), source]))
                Assert.True(gcc.WaitForExit() == 0, "gcc -m32 failed: " + gcc.StandardError);
            using var c = ChildProcess.Start(qemu!, ["-L", "/", "-cpu", "max", "./client32", host.Path], workingDirectory: dir);
            Assert.Equal("opened 4", c.ReadLine()); // sizeof(void *) in the client
            var cred = host.Driver.Opened.Single(x => x.Pid == c.Pid);
            Assert.Equal(DataModel.ILP32, cred.Model);
            c.CloseInput();
            Assert.Equal(0, c.WaitForExit());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>A 32-bit client speaking the protocol with raw bytes: HELLO, OPEN, then waits for stdin to close.</summary>
    private const string Client32Source = """
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <unistd.h>
        static void put16(unsigned char *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
        static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
        static int request(int s, uint16_t type, uint32_t seq, const unsigned char *payload, uint32_t n) {
            unsigned char m[64], r[64];
            put32(m, 0x4D454D55); put16(m + 4, 1); put16(m + 6, type); put32(m + 8, 16 + n); put32(m + 12, seq);
            memcpy(m + 16, payload, n);
            if (send(s, m, 16 + n, 0) != (ssize_t)(16 + n)) return -1;
            if (recv(s, r, sizeof r, 0) < 20) return -1;
            return r[16] | r[17] << 8 | r[18] << 16 | r[19] << 24;
        }
        int main(int argc, char **argv) {
            int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
            struct sockaddr_un a = { .sun_family = AF_UNIX };
            strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
            if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
            unsigned char hello[8] = { 1, 0, 1, 0, 0, 0, 0, 0 }, open[8] = { 0 };
            if (request(s, 1, 1, hello, 8) != 0 || request(s, 2, 2, open, 8) != 0) { printf("failed\n"); return 1; }
            printf("opened %d\n", (int)sizeof(void *));
            fflush(stdout);
            char c;
            while (read(0, &c, 1) > 0) { }
            return 0;
        }
        """;
}
