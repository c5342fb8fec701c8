using System.Globalization;
using System.Text;
using Umem.Client;
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
        using var csharp = UmemDevice.Open(host.Path);
        using var page = csharp.Map(0, Umem.Platform.SystemPage.Size);
        long mine = Assert.Single(host.Umemd.Kernel.GetMappings()).Id;

        var run = Task.Run(() => runner.RunPreloaded("plain_fork", host.Path));
        // The child names itself in the page once its parent is gone.
        Eventually.WaitUntil(() => page.Span[2048] != 0, "the child to write the page after its parent exited");
        string text = Encoding.ASCII.GetString(page.GetSpan(2048, 64)).TrimEnd('\0');
        Assert.StartsWith("child ", text, StringComparison.Ordinal);
        int child = int.Parse(text["child ".Length..], CultureInfo.InvariantCulture);
        Assert.StartsWith("parent ", Encoding.ASCII.GetString(page.GetSpan(0, 64)), StringComparison.Ordinal);

        // The host's view: besides the C# client's, one mapping, the child's; the parent's went with it.
        Eventually.WaitUntil(() => host.Umemd.Kernel.GetMappings().Count == 2, "the parent's mapping to go");
        var held = Assert.Single(host.Umemd.Kernel.GetMappings(), m => m.Id != mine);
        Assert.Equal(child, held.Cred.Pid);
        Assert.Contains(host.Driver.Dups, d => d.Pid == child);
        Assert.Equal((0, 0), host.Host.InheritState);

        page.Span[3000] = 41; // the child answers through the page
        var r = await run.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("child saw 41\n", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("child done\n", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(42, page.Span[3001]);
        Eventually.WaitUntil(() => host.LiveMappings == 1 && host.Driver.LiveOpens == 1 && host.Driver.LiveRegions == 1,
            "the host to keep only the C# client's open and mapping once the child is gone");
    }
}
