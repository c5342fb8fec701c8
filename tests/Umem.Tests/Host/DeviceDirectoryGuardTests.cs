using Umem.Host;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>
/// The device directory is refused unless no one but root and the host's uid can change it or any directory above
/// it (<see cref="DeviceDirectoryGuard"/>, <see cref="TrustedPath"/>). Run as root, the tests make directories of
/// <c>nobody</c>'s with chown.
/// </summary>
public sealed class DeviceDirectoryGuardTests : IDisposable
{
    private const uint Nobody = 65534;
    private readonly string _base = TestHost.NewDirectory(); // root's, 0755, under the sticky /tmp

    [Fact]
    public void AFreshPathIsCreatedOwnedByTheHostWithMode0755()
    {
        string dev = Path.Combine(_base, "a", "b", "dev");
        DeviceDirectoryGuard.Prepare(dev);
        foreach (var dir in new[] { Path.Combine(_base, "a"), Path.Combine(_base, "a", "b"), dev })
        {
            var status = Stat(dir);
            Assert.True(status.IsDirectory);
            Assert.Equal((ProcessHardening.EffectiveUid, "0755"), (status.Uid, status.Permissions));
        }
        DeviceDirectoryGuard.Prepare(dev); // an existing good one is fine
    }

    [Fact]
    public void TheTestHostsDirectoriesPass() => DeviceDirectoryGuard.Prepare(Path.Combine(TestHost.NewDirectory(), "dev"));

    [Fact]
    public void AParentOwnedByAnotherUserIsRefused()
    {
        string umem = Path.Combine(_base, "umem");
        Directory.CreateDirectory(umem);
        Chown(umem, Nobody);
        var e = Refused(Path.Combine(umem, "dev"), Errno.EPERM);
        Assert.Contains($"{umem} is owned by uid {Nobody}", e.Message, StringComparison.Ordinal);
        Assert.Contains("--dev-dir", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(umem, "dev"))); // nothing made inside it
    }

    [Fact]
    public void TheHostRefusesToStartInADirectoryOwnedByAnotherUser()
    {
        string dev = Path.Combine(_base, "dev");
        Directory.CreateDirectory(dev);
        Chown(dev, Nobody);
        var e = Assert.Throws<ErrnoException>(() => UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = dev } }));
        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Contains($"{dev} is owned by uid {Nobody}, not by root", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGroupWritableParentIsRefused()
    {
        string parent = Path.Combine(_base, "g");
        Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, (UnixFileMode)Convert.ToInt32("775", 8));
        var e = Refused(Path.Combine(parent, "dev"), Errno.EPERM);
        Assert.Contains("writable by group or other (mode 0775)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStickyParentOwnedByRootIsAcceptedAndOneOwnedByAnotherUserIsNot()
    {
        string tmp = Path.Combine(_base, "tmp");
        Directory.CreateDirectory(tmp);
        File.SetUnixFileMode(tmp, (UnixFileMode)Convert.ToInt32("1777", 8));
        DeviceDirectoryGuard.Prepare(Path.Combine(tmp, "umem", "dev"));
        Chown(tmp, Nobody);
        Refused(Path.Combine(tmp, "umem", "dev"), Errno.EPERM);
    }

    [Fact]
    public void ASymbolicLinkInThePathIsRefused()
    {
        string real = Path.Combine(_base, "real");
        Directory.CreateDirectory(real);
        Directory.CreateSymbolicLink(Path.Combine(_base, "link"), real);
        var e = Refused(Path.Combine(_base, "link", "dev"), Errno.ELOOP);
        Assert.Contains("link is a symbolic link", e.Message, StringComparison.Ordinal);
        Directory.CreateSymbolicLink(Path.Combine(_base, "dev"), real); // the last component too
        Refused(Path.Combine(_base, "dev"), Errno.ELOOP);
    }

    [Fact]
    public void TheDirectoryItselfMustBeADirectoryOfTheHostsThatOthersCannotWrite()
    {
        string file = Path.Combine(_base, "file");
        File.WriteAllText(file, "");
        Refused(file, Errno.ENOTDIR);
        Refused(Path.Combine(file, "dev"), Errno.ENOTDIR);
        string open = Path.Combine(_base, "open");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("1777", 8)); // sticky is fine above, not here
        Assert.Contains("chmod 755", Refused(open, Errno.EPERM).Message, StringComparison.Ordinal);
        // A root-owned directory is a fine parent for a host of another uid, but not its device directory.
        string rootOwned = Path.Combine(_base, "r");
        Directory.CreateDirectory(rootOwned);
        var e = Assert.Throws<ErrnoException>(() => DeviceDirectoryGuard.Prepare(rootOwned, Nobody));
        Assert.Contains($"owned by uid 0, not the host's uid {Nobody}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostThatIsNotRootMakesPrivateParentsAndRefusesAnotherUsersDirectory()
    {
        string mine = Path.Combine(_base, "nobody");
        Directory.CreateDirectory(mine);
        Chown(mine, Nobody);
        string dev = Path.Combine(mine, "umem", "dev");
        var mode0755 = (UnixFileMode)Convert.ToInt32("755", 8);
        using (var host = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "host", "--dev-dir", dev], Nobody))
            Eventually.WaitUntil(() => Directory.Exists(dev) && File.GetUnixFileMode(dev) == mode0755, "the device directory of a host running as nobody");
        Assert.Equal((Nobody, "0700"), (Stat(Path.Combine(mine, "umem")).Uid, Stat(Path.Combine(mine, "umem")).Permissions));
        Assert.Equal((Nobody, "0755"), (Stat(dev).Uid, Stat(dev).Permissions));

        string theirs = Path.Combine(_base, "theirs");
        Directory.CreateDirectory(theirs);
        Chown(theirs, 1000);
        using var refused = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, "host", "--dev-dir", Path.Combine(theirs, "dev")], Nobody);
        string output = string.Join('\n', refused.ReadToEnd());
        Assert.NotEqual(0, refused.WaitForExit());
        Assert.Contains($"{theirs} is owned by uid 1000, not by root or uid {Nobody}", output + refused.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative/dev")]
    [InlineData("/tmp/../tmp/dev")]
    [InlineData("/tmp/./dev")]
    public void OnlyPlainAbsolutePaths(string path) => Assert.Throws<ArgumentException>(() => DeviceDirectoryGuard.Prepare(path));

    [Fact]
    public void TrustedPathsForEmulatorsAreRootsOnly()
    {
        using (TrustedPath.Open("/usr/bin/env", 0, out var env)) Assert.True(env.IsRegularFile);
        string file = Path.Combine(_base, "qemu-i386");
        File.WriteAllText(file, "");
        using (TrustedPath.Open(file, 0, out _)) { }
        Chown(file, Nobody);
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => TrustedPath.Open(file, 0, out _)).Errno);
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private static ErrnoException Refused(string path, Errno errno)
    {
        var e = Assert.Throws<ErrnoException>(() => DeviceDirectoryGuard.Prepare(path));
        Assert.True(e.Errno == errno, e.Message);
        return e;
    }

    private static FileStatus Stat(string path)
    {
        using var fd = TrustedPath.Open(path, Nobody, out var status);
        return status;
    }

    private static void Chown(string path, uint uid)
    {
        Assert.SkipWhen(ProcessHardening.EffectiveUid != 0, "only root can give a directory to another user");
        if (Umem.Platform.Interop.chown(path, uid, uid) < 0) throw new ErrnoException(Umem.Platform.Interop.LastErrno, $"chown({path})");
    }
}
