using System.Globalization;
using Umem.Cli.Commands.Admin;
using Umem.Platform;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>
/// modinfo, pmap and stat against a live host (the real host code with the test device) with real client processes:
/// the figures are what the clients did, in the tables and in --json alike.
/// </summary>
public sealed class AdminViewTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task ViewsShowWhatTheClientsHold()
    {
        await using var host = TestHost.Start(); // pages 0-1 read-write, 2-3 read-only, one memfd per page
        string dir = host.Directory;
        using var a = ChildProcess.StartTestApp(null, "client");
        using var b = ChildProcess.StartTestApp(null, "client");
        a.Ok($"open {host.Path}");
        a.Ok($"map 0 {2 * Page} rw");
        b.Ok($"open {host.Path} r");
        b.Ok($"map {2 * Page} {2 * Page} r");
        b.Ok($"map {3 * Page} {Page} r");

        // pmap PID: every region, with its maxprot, cookie and the memfds the process received.
        var (exit, table, _) = CommandRun.Invoke(PmapCommand.Create(), a.Pid.ToString(CultureInfo.InvariantCulture), "--host-dir", dir);
        Assert.Equal(0, exit);
        var mapping = host.Umemd.Kernel.GetMappings().Single(m => m.Cred.Pid == a.Pid);
        var row = CommandRun.Row(table, mapping.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(["test0", "0", $"{2 * Page}", "rw-", "LP64", "0", $"{2 * Page}", "rw-", $"{mapping.Regions[0].CookieId}", "0", "2"], row[1..]);
        Assert.Contains($"total 1 mappings, {2 * Page} bytes, 2 fds", table, StringComparison.Ordinal);

        var bMaps = CommandRun.Json(PmapCommand.Create(), b.Pid.ToString(CultureInfo.InvariantCulture), "--host-dir", dir).Mappings!;
        Assert.Equal(2, bMaps.Count);
        Assert.All(bMaps, m => Assert.Equal((b.Pid, "r--", "r--"), (m.Pid, m.Prot, m.Regions.Single().MaxProt)));
        Assert.Equal([(2L * Page, 2L * Page, 2), (3L * Page, Page, 1)], bMaps.Select(m => (m.Offset, m.Length, m.Regions.Single().GrantUnitFds)));

        // pmap: one line per process.
        (exit, table, _) = CommandRun.Invoke(PmapCommand.Create(), "--host-dir", dir);
        Assert.Equal(0, exit);
        Assert.Equal([$"{a.Pid}", "0", "LP64"], CommandRun.Row(table, $"{a.Pid}")[..3]);
        Assert.Equal(["1", "1", "1", $"{2 * Page}", "0", "0"], CommandRun.Row(table, $"{a.Pid}")[5..]);
        Assert.Equal(["1", "1", "2", $"{3 * Page}", "0", "0"], CommandRun.Row(table, $"{b.Pid}")[5..]);
        var processes = CommandRun.Json(PmapCommand.Create(), "--host-dir", dir).Processes!;
        Assert.Equal([(a.Pid, 1, 2L * Page), (b.Pid, 2, 3L * Page)], processes.OrderBy(p => p.Pid == a.Pid ? 0 : 1).Select(p => (p.Pid, p.Mappings, p.MappedBytes)));

        // modinfo: the module, its node, its opens and mappings, the memory it holds.
        (exit, table, _) = CommandRun.Invoke(ModCommands.ModInfo(), "--host-dir", dir);
        Assert.Equal(0, exit);
        Assert.Equal(["testdev", $"{host.Umemd.Kernel.FindModule("testdev")!.Major}", "attached", "0", "2", "3", "1", $"{4 * Page}"], CommandRun.Row(table, "1")[1..9]);
        Assert.Equal(["testdev", "0"], CommandRun.Row(table, "test0")[1..3]);
        Assert.Equal(["0666", "0:0", "2", "3"], CommandRun.Row(table, "test0")[4..]);
        var module = Assert.Single(CommandRun.Json(ModCommands.ModInfo(), "testdev", "--host-dir", dir).Modules!);
        Assert.Equal((2, 3, 1, 4L * Page), (module.Opens, module.Mappings, module.Cookies, module.Bytes));

        // stat: the same figures, and the requests by type and result.
        (exit, table, _) = CommandRun.Invoke(StatCommand.Create(), "--host-dir", dir);
        Assert.Equal(0, exit);
        Assert.Equal(($"{4 * Page}", "1", "3", "2", "2"), (Figure(table, "pageable bytes"), Figure(table, "pageable cookies"), Figure(table, "mappings"),
            Figure(table, "opens"), Figure(table, "connections")));
        var stat = CommandRun.Json(StatCommand.Create(), "--host-dir", dir).Stat!;
        Assert.Equal((1L, 4L * Page, 3, 2, 2), (stat.PageableCookies, stat.PageableBytes, stat.Mappings, stat.Opens, stat.Connections));
        Assert.Equal(3, stat.Requests["mmap ok"]);
        Assert.Equal(2, stat.Requests["open ok"]);

        // After a client leaves, its mappings and connection are gone from every view.
        a.Send("quit");
        a.WaitForExit();
        Eventually.WaitUntil(() => CommandRun.Json(StatCommand.Create(), "--host-dir", dir).Stat!.Connections == 1, "the host to release the client that left");
        stat = CommandRun.Json(StatCommand.Create(), "--host-dir", dir).Stat!;
        Assert.Equal((2, 1), (stat.Mappings, stat.Opens));
        Assert.Equal(1, CommandRun.Invoke(PmapCommand.Create(), a.Pid.ToString(CultureInfo.InvariantCulture), "--host-dir", dir).Exit); // ESRCH
    }

    [Fact]
    public void TheRealHostAnswersTheRealCommands()
    {
        // `umem host` and `umem pmap`/`modinfo` as processes of their own, and a client process mapping xx's page.
        using var host = CliHost.Start(["xx"], "xx0");
        using var app = ChildProcess.StartTestApp(null, "client");
        app.Ok($"open {host.NodePath("xx0")}");
        app.Ok($"map 0 {Page} rw");
        var pmap = RunUmem(["pmap", app.Pid.ToString(CultureInfo.InvariantCulture), "--json", "--host-dir", host.HostDirectory]);
        var mapping = Assert.Single(System.Text.Json.JsonSerializer.Deserialize(pmap, global::Umem.Protocol.Admin.AdminJson.Default.AdminReply)!.Mappings!);
        Assert.Equal((app.Pid, "xx0", (long)Page, "rw-", "LP64"), (mapping.Pid, mapping.Node, mapping.Length, mapping.Prot, mapping.Model));
        Assert.Equal(1, Assert.Single(mapping.Regions).GrantUnitFds);
        string modinfo = RunUmem(["modinfo", "--host-dir", host.HostDirectory]);
        Assert.Equal(["xx", "0", "1", "1"], CommandRun.Row(modinfo, "xx0")[1..3].Concat(CommandRun.Row(modinfo, "xx0")[^2..]));
        Assert.Equal(0, host.Stop());

        static string RunUmem(string[] args)
        {
            using var cli = ChildProcess.Start(ChildProcess.DotNet, [TestPaths.CliDll, .. args]);
            string output = string.Join('\n', cli.ReadToEnd());
            Assert.True(cli.WaitForExit() == 0, cli.StandardError);
            return output;
        }
    }

    /// <summary>The value of a FIGURE row of stat's table.</summary>
    private static string Figure(string table, string label) =>
        table.Split('\n').Single(l => l.StartsWith(label + "  ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];

    [Fact]
    public async Task StatWithAnIntervalPrintsOneLineEach()
    {
        await using var host = TestHost.Start();
        var (exit, output, _) = CommandRun.Invoke(StatCommand.Create(), "--host-dir", host.Directory, "--interval", "1", "--count", "2");
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // the header, then one line per interval
        Assert.StartsWith("CONNS", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("modinfo")]
    [InlineData("pmap")]
    [InlineData("stat")]
    [InlineData("modunload")]
    [InlineData("prctl")]
    public void WithNoHostEachCommandSaysSoInOneLine(string name)
    {
        string dir = Path.Combine(TestHost.NewDirectory(), "nothing-here");
        var command = name switch
        {
            "modinfo" => ModCommands.ModInfo(),
            "pmap" => PmapCommand.Create(),
            "stat" => StatCommand.Create(),
            "modunload" => ModCommands.ModUnload(),
            _ => Umem.Cli.Commands.PrctlCommand.Create(),
        };
        string[] args = name switch
        {
            "modunload" => ["xx", "--host-dir", dir],
            "prctl" => ["-i", "project", "default", "--host-dir", dir],
            _ => ["--host-dir", dir],
        };
        var (exit, output, error) = CommandRun.Invoke(command, args);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Path.Combine(dir, "admin"), line, StringComparison.Ordinal);
        Assert.Contains("ENOENT", line, StringComparison.Ordinal);
        Assert.Contains("umem host", line, StringComparison.Ordinal);
    }
}
