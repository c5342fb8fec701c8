using Umem.Cli.Commands.Admin;
using Umem.Platform;
using Umem.Tests.Ddi;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>modload and modunload through the admin socket: the same path as `umem host -d`, the same EBUSY and leak reports.</summary>
public sealed class AdminModuleTests
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public async Task UnloadIsBusyWhileMappedThenReportsTheLeak()
    {
        // leak=1: the test driver's detach does not free its 4 pages.
        await using var host = TestHost.Start(properties: new Dictionary<string, string> { ["leak"] = "1" });
        string dir = host.Directory;
        using var app = ChildProcess.StartTestApp(null, "client");
        app.Ok($"open {host.Path}");
        app.Ok($"map 0 {Page} rw");

        var (exit, output, error) = CommandRun.Invoke(ModCommands.ModUnload(), "testdev", "--host-dir", dir);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("EBUSY", error, StringComparison.Ordinal);
        Assert.Contains("1 file(s) open, 1 mapping(s)", error, StringComparison.Ordinal);
        Assert.NotNull(host.Umemd.Kernel.FindModule("testdev"));

        app.Send("quit");
        app.WaitForExit();
        Eventually.WaitUntil(() => host.Umemd.Kernel.MappingCount == 0 && host.Umemd.Kernel.OpenFileCount == 0, "the host to release the client that left");
        (exit, output, error) = CommandRun.Invoke(ModCommands.ModUnload(), "testdev", "--host-dir", dir);
        Assert.True(exit == 0, error);
        Assert.Equal(["testdev", "1", $"{4 * Page}"], output.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..]); // after the date and time
        Assert.Contains($"testdev: leaked cookie", output, StringComparison.Ordinal);

        // modinfo keeps the report: in the table, and in JSON with the cookie and where it was allocated.
        (exit, output, _) = CommandRun.Invoke(ModCommands.ModInfo(), "--host-dir", dir);
        Assert.Equal(0, exit);
        Assert.Contains($"({4 * Page} bytes, KmemPageable) allocated at Attach (TestDeviceDriver.cs:", output, StringComparison.Ordinal);
        var reply = CommandRun.Json(ModCommands.ModInfo(), "testdev", "--host-dir", dir);
        Assert.Empty(reply.Modules!);
        var leak = Assert.Single(Assert.Single(reply.Unloads!).Leaks);
        Assert.Equal((4L * Page, "KmemPageable", false), (leak.Bytes, leak.Type, leak.StillExported));
    }

    [Fact]
    public async Task ModloadServesTheNewNodesAndModinfoListsThem()
    {
        await using var host = TestHost.Start();
        string dir = host.Directory;
        var (exit, output, error) = CommandRun.Invoke(ModCommands.ModLoad(), TestDriverPaths.Xx, "--name", "xy", "--host-dir", dir);
        Assert.True(exit == 0, error);
        Assert.Equal("attached", CommandRun.Row(output, "2")[3]);
        Assert.Equal("xy", CommandRun.Row(output, "2")[1]);
        Assert.True(File.Exists(host.Umemd.NodePath("xx0")));
        using (var app = ChildProcess.StartTestApp(null, "client"))
        {
            app.Ok($"open {host.Umemd.NodePath("xx0")}");
            app.Ok($"map 0 {Page} rw");
            var module = CommandRun.Json(ModCommands.ModInfo(), "xy", "--host-dir", dir).Modules!.Single();
            Assert.Equal((1, 1, 1, (long)2 * Page), (module.Opens, module.Mappings, module.Cookies, module.Bytes));
        }

        // Loading it again under the same name is the kernel's EEXIST; a missing file ENOENT; both one line, exit 1.
        (exit, _, error) = CommandRun.Invoke(ModCommands.ModLoad(), TestDriverPaths.Xx, "--name", "xy", "--host-dir", dir);
        Assert.Equal(1, exit);
        Assert.Contains("EEXIST", error, StringComparison.Ordinal);
        (exit, _, error) = CommandRun.Invoke(ModCommands.ModInfo(), "nosuch", "--host-dir", dir);
        Assert.Equal((1, true), (exit, error.Contains("ENOENT", StringComparison.Ordinal)));
        Assert.Equal(2, CommandRun.Invoke(ModCommands.ModLoad(), "/nonexistent/driver.dll", "--host-dir", dir).Exit);
    }
}
