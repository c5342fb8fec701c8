using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>
/// `umem host` run as an ordinary user (a uid with no passwd entry and no capabilities, dropped to with setpriv):
/// it owns the nodes it may not give to root, keeps each driver's mode, and serves every shipped driver to its own
/// and other users; minor_perm lines from the operator narrow or widen a node, and one it cannot honour stops it
/// with a line saying why.
/// </summary>
public sealed class NonRootHostTests : IDisposable
{
    private const uint User = 4711;
    private const uint Nobody = 65534;
    private const int Page = 4096;
    private readonly string _base = TestHost.NewDirectory();
    private readonly string _dev;

    public NonRootHostTests()
    {
        Assert.SkipWhen(ProcessHardening.EffectiveUid != 0, "the test drops from root to an ordinary user");
        // The user's own 0755 directory: a host makes missing parents 0700 ($XDG_RUNTIME_DIR's way), which would
        // keep other users out; one meant for other users is the operator's choice.
        string shared = Path.Combine(_base, "shared");
        Directory.CreateDirectory(shared);
        if (Interop.chown(shared, User, User) < 0) throw new ErrnoException(Interop.LastErrno, $"chown({shared})");
        _dev = Path.Combine(shared, "dev");
    }

    [Fact]
    public void AnOrdinaryUsersHostServesEveryShippedDriverToItsUsers()
    {
        using var host = StartHost("-d", "xx", "-d", "ring", "-d", "lockmem");
        var nodes = ReadNodes(host, 3);
        foreach (string name in new[] { "xx0", "ring0", "lockmem0" })
        {
            Assert.Equal($"{User}:{User} 0666", nodes[name]); // the host's own uid, the driver's mode
            Assert.Equal($"{User} 666", OwnerAndMode(Path.Combine(_dev, name))); // the socket: connect(2) checks it
        }

        // The host's user and another user share xx's page 0 (both 64-bit).
        using var own = ChildProcess.StartTestApp(User, "client");
        using var other = ChildProcess.StartTestApp(Nobody, "client");
        own.Ok($"open {Path.Combine(_dev, "xx0")} rw");
        own.Ok($"map 0 {Page} rw");
        own.Ok("fill 0 100 1 42");
        other.Ok($"open {Path.Combine(_dev, "xx0")} rw");
        other.Ok($"map 0 {Page} rw");
        Assert.Equal("ok 42", other.Command("get 0 100"));
    }

    [Fact]
    public void AMinorPermLineNarrowsANodeToTheHostsOwnUser()
    {
        using var host = StartHost("-d", "xx", "--node-perm", "xx:xx* 0600");
        Assert.Equal($"{User}:{User} 0600", ReadNodes(host, 1)["xx0"]);
        using var own = ChildProcess.StartTestApp(User, "client");
        own.Ok($"open {Path.Combine(_dev, "xx0")} rw");
        using var other = ChildProcess.StartTestApp(Nobody, "client");
        Assert.StartsWith("err EACCES", other.Command($"open {Path.Combine(_dev, "xx0")} r"), StringComparison.Ordinal);
    }

    [Fact]
    public void AnOwnerTheHostMayNotGiveNodesToStopsItWithAReason()
    {
        using var host = StartHost("-d", "xx", "--node-perm", "xx:* 0666 root");
        string said = string.Join('\n', host.ReadToEnd()) + host.StandardError;
        Assert.NotEqual(0, host.WaitForExit());
        Assert.Contains("may not give files to", said, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", said, StringComparison.Ordinal); // one line, no stack trace
        Assert.Empty(Directory.GetFileSystemEntries(_dev)); // a failed start removes what it made
    }

    [Fact]
    public void ABadMinorPermLineIsRefusedNamingTheField()
    {
        using var host = StartHost("-d", "xx", "--node-perm", "xx:* 0999");
        string said = string.Join('\n', host.ReadToEnd()) + host.StandardError;
        Assert.NotEqual(0, host.WaitForExit());
        Assert.Contains("--node-perm:1: mode: '0999' is not octal permission bits", said, StringComparison.Ordinal);
    }

    private ChildProcess StartHost(params string[] args) =>
        ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "host", "--dev-dir", _dev, .. args], User);

    /// <summary>The "umem host: PATH (ACCESS)" lines, by node name.</summary>
    private static Dictionary<string, string> ReadNodes(ChildProcess host, int count)
    {
        var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (nodes.Count < count)
        {
            string line = host.ReadUntil(l => l.StartsWith("umem host: /", StringComparison.Ordinal));
            int open = line.LastIndexOf(" (", StringComparison.Ordinal);
            nodes[Path.GetFileName(line["umem host: ".Length..open])] = line[(open + 2)..^1];
        }
        return nodes;
    }

    private static string OwnerAndMode(string path)
    {
        using var stat = ChildProcess.Start("stat", ["-c", "%u %a", path]);
        return stat.ReadLine();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_base, recursive: true);
        }
        catch (IOException)
        {
            // A host still exiting may hold the directory a moment; the temp cleaner takes the rest.
        }
    }
}
