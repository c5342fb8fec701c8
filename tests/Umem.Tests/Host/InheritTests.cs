using Umem.Client;
using Umem.Host;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Tests.Host;

/// <summary>
/// DUP_PREPARE and INHERIT against a real host: a child process (a TestApp, whose parent is this test process)
/// takes over a mapping this process prepared; devmap_dup(9E) runs; single use, children only, expiry.
/// </summary>
public sealed class InheritTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task AChildTakesOverAMappingAndKeepsItAfterTheParentLetsGo()
    {
        await using var host = TestHost.Start();
        var device = UmemDevice.Open(host.Path);
        var mapping = device.Map(0, 2 * Page);
        mapping.Span[5] = 0x5A;
        var token = device.PrepareFork(mapping);

        using var child = ChildProcess.StartTestApp(null, "client");
        child.Ok($"open {host.Path}");
        long id = long.Parse(child.Ok($"inherit {token.ToHex()}"), System.Globalization.CultureInfo.InvariantCulture);

        // The driver's devmap_dup(9E) ran once per region, as the child (curproc).
        var dups = host.Driver.Dups.ToArray();
        Assert.NotEmpty(dups);
        Assert.All(dups, d => Assert.Equal(child.Pid, d.Pid));
        Assert.Equal(2 * Page, dups.Sum(d => d.Length));
        var mine = Assert.Single(host.Umemd.Kernel.GetMappings(), m => m.Id == id);
        Assert.Equal(child.Pid, mine.Cred.Pid);

        // The parent lets go: its mapping and open go, the child's mapping keeps the memory and is the child's.
        mapping.Dispose();
        device.Dispose();
        Eventually.WaitUntil(() => host.Umemd.Kernel.GetMappings().Count == 1, "the parent's mapping unmapped");
        Assert.Equal(child.Pid, Assert.Single(host.Umemd.Kernel.GetMappings()).Cred.Pid);
        Assert.Equal(0x5A, host.Driver.Kernel(5, 1)[0]);
        Assert.True(host.Driver.LiveRegions > 0);

        Assert.Equal("bye", child.Command("quit"));
        Assert.Equal(0, child.WaitForExit());
        Eventually.WaitUntil(() => host.LiveMappings == 0 && host.Driver.LiveRegions == 0 && host.Driver.LiveOpens == 0, "the child's mapping released");
        Assert.Equal((0, 0), host.Host.InheritState);
    }

    [Fact]
    public async Task ATokenIsUsedOnceAndOnlyByAChild()
    {
        await using var host = TestHost.Start();
        using var device = UmemDevice.Open(host.Path);
        using var mapping = device.Map(0, Page);
        var token = device.PrepareFork(mapping);

        // This process is no child of itself: refused, and the token stays for the real child.
        using (var self = UmemDevice.Open(host.Path))
            Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => self.InheritFrom(token)).Errno);
        Assert.Equal(1, host.Host.InheritState.Pending);

        using var child = ChildProcess.StartTestApp(null, "client");
        child.Ok($"open {host.Path}");
        child.Ok($"inherit {token.ToHex()}");
        Assert.StartsWith("err ENOENT", child.Command($"inherit {token.ToHex()}"), StringComparison.Ordinal); // used
        Assert.StartsWith("err ENOENT", child.Command($"inherit {InheritToken.NewRandom().ToHex()}"), StringComparison.Ordinal); // never issued
        Assert.Equal(0, host.Host.InheritState.Pending);
    }

    [Fact]
    public async Task AnExpiredTokenIsRefusedAndARefusingDriverFailsTheInheritance()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { InheritTokenLifetime = TimeSpan.FromMilliseconds(100) });
        using var device = UmemDevice.Open(host.Path);
        using var mapping = device.Map(0, Page);
        var expired = device.PrepareFork(mapping);
        Eventually.WaitUntil(() => host.Host.InheritState.Pending == 0, "the token expired");

        using var child = ChildProcess.StartTestApp(null, "client");
        child.Ok($"open {host.Path}");
        Assert.StartsWith("err ETIMEDOUT", child.Command($"inherit {expired.ToHex()}"), StringComparison.Ordinal);

        // devmap_dup(9E) answers ENOMEM: the child's inheritance fails with it and nothing of the copy is left.
        host.Driver.DupResult = Errno.ENOMEM;
        long regions = host.Driver.LiveRegions;
        var refused = device.PrepareFork(mapping);
        Assert.StartsWith("err ENOMEM", child.Command($"inherit {refused.ToHex()}"), StringComparison.Ordinal);
        Assert.Contains(host.Driver.Dups, d => d.Result == Errno.ENOMEM && d.Pid == child.Pid);
        Assert.Equal(regions, host.Driver.LiveRegions);
        Assert.Single(host.Umemd.Kernel.GetMappings());
    }
}
