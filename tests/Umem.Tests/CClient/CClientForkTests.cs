using System.Globalization;
using System.Text;
using Umem.Client;
using Umem.Host;
using Umem.Kernel.Modules;
using Umem.Tests.Ddi;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// fork(2) through libumem-preload.so: plain_fork (no Umem header) maps the node, forks, and its parent exits at
/// once; the child redeemed its tokens on a connection of its own (INHERIT), so the host's mapping is the child's,
/// the driver's devmap_dup(9E) ran for it, and the child and a C# client go on sharing the page.
/// </summary>
public sealed partial class CClientBuildTests
{
    [Theory]
    [MemberData(nameof(Models))]
    public async Task AForkedChildKeepsItsParentsMappingAfterTheParentExits(string model)
    {
        var runner = Runner.For(model);
        await using var host = TestHost.Start();
        int child = await ForkAndShare(runner, host.Path, host.Umemd.Kernel);
        Assert.Contains(host.Driver.Dups, d => d.Pid == child); // the driver's devmap_dup(9E) ran for the child
        Eventually.WaitUntil(() => host.LiveMappings == 0 && host.Driver.LiveOpens == 0 && host.Driver.LiveRegions == 0,
            "the host to hold nothing once the child and the C# client are gone");
        Assert.Equal((0, 0), host.Host.InheritState);
    }

    [Fact]
    public async Task AForkedChildKeepsItsParentsMappingOfTheSeedsXxNode()
    {
        var runner = Runner.For("64");
        string dir = TestHost.NewDirectory();
        try
        {
            await using var system = UmemSystem.Start(new UmemSystemOptions { Host = new DeviceHostOptions { DeviceDirectory = Path.Combine(dir, "dev") } });
            system.Kernel.ModLoad(TestDriverPaths.Xx);
            await ForkAndShare(runner, system.NodePath("xx0"), system.Kernel);
            Eventually.WaitUntil(() => system.Kernel.GetMappings().Count == 0, "the host to hold no mapping once the child and the C# client are gone");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Runs plain_fork on <paramref name="node"/> beside a C# client of its page 0; checks, once the parent is gone,
    /// that the host's one other mapping is the child's and that the child and the C# client share the page. Returns the child's pid.
    /// </summary>
    private static async Task<int> ForkAndShare(Runner runner, string node, UmemKernel kernel)
    {
        using var csharp = UmemDevice.Open(node);
        using var page = csharp.Map(0, Umem.Platform.SystemPage.Size);
        long mine = Assert.Single(kernel.GetMappings()).Id;

        var run = Task.Run(() => runner.RunPreloaded("plain_fork", node));
        // The child names itself in the page once its parent is gone.
        Eventually.WaitUntil(() => page.Span[2048] != 0, "the child to write the page after its parent exited");
        string text = Encoding.ASCII.GetString(page.GetSpan(2048, 64)).TrimEnd('\0');
        Assert.StartsWith("child ", text, StringComparison.Ordinal);
        int child = int.Parse(text["child ".Length..], CultureInfo.InvariantCulture);
        Assert.StartsWith("parent ", Encoding.ASCII.GetString(page.GetSpan(0, 64)), StringComparison.Ordinal);

        // The host's view: besides the C# client's, one mapping, the child's; the parent's went with the parent.
        Eventually.WaitUntil(() => kernel.GetMappings().Count == 2, "the parent's mapping to go");
        var held = Assert.Single(kernel.GetMappings(), m => m.Id != mine);
        Assert.Equal(child, held.Cred.Pid);

        page.Span[3000] = 41; // the child answers through the page
        var r = await run.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("child saw 41\n", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("child done\n", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(42, page.Span[3001]);
        return child;
    }
}
