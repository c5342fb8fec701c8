using System.Buffers.Binary;
using System.Globalization;
using Umem.Cli.Commands;
using Umem.Tests.Ddi;
using Umem.Tests.Samples;

namespace Umem.Tests.Admin;

/// <summary>
/// umem prctl against the running host: the usage is the host's, and <c>-r</c> takes effect at once: new
/// ddi_umem_lock(9F) calls are judged by the new value, locks already held stay (as prctl(1) on illumos).
/// </summary>
public sealed class AdminPrctlTests
{
    private const int Chunk = 256 << 10;
    private const int LockCmd = ('L' << 8) | 1;

    [Fact]
    public async Task LoweringTheLimitRefusesTheNextLockAndKeepsTheHeldOnes()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        string hostDir = Path.GetDirectoryName(umem.System.AdminSocketPath)!;
        using var app = ChildProcess.StartTestApp(null, "client"); // root: project user.root (1 GiB in SampleSystem's file)
        app.Ok($"open {umem.System.NodePath("lockmem0")}");
        app.Ok($"register {4 * Chunk}");
        long address = long.Parse(app.Ok("baddr 0"), CultureInfo.InvariantCulture);
        string Lock(int n) => app.Command($"ioctl {LockCmd} {LockArgs(address + ((long)n * Chunk), Chunk)} 0");

        Assert.StartsWith("ok", Lock(0), StringComparison.Ordinal);
        Assert.Equal((ulong)Chunk, Usage());

        // -r below the next request: that lock is refused with ENOMEM, the one held stays charged.
        var (exit, _, error) = Prctl("-n", "project.max-locked-memory", "-r", "-v", $"{Chunk + (Chunk / 2)}", "-i", "project", "user.root");
        Assert.True(exit == 0, error);
        Assert.StartsWith("err ENOMEM", Lock(1), StringComparison.Ordinal);
        Assert.Equal((ulong)Chunk, Usage());
        var (_, shown, _) = Prctl("-n", "project.max-locked-memory", "-i", "project", "user.root");
        Assert.Contains("privileged       384KB      -   deny", shown, StringComparison.Ordinal);
        Assert.Contains("usage            256KB", shown, StringComparison.Ordinal);

        // Raised: the same request goes through.
        Assert.Equal(0, Prctl("-n", "project.max-locked-memory", "-r", "-v", "1M", "-i", "project", "1").Exit);
        Assert.StartsWith("ok", Lock(1), StringComparison.Ordinal);
        Assert.Equal((ulong)(2 * Chunk), Usage());

        // -i process PID shows the live usage of the process's project, -P raw.
        var (_, parseable, _) = Prctl("-P", "-n", "project.max-locked-memory", app.Pid.ToString(CultureInfo.InvariantCulture));
        Assert.Contains($"project.max-locked-memory usage {2 * Chunk} - - -", parseable, StringComparison.Ordinal);
        Assert.Contains("project.max-locked-memory privileged 1048576 - deny -", parseable, StringComparison.Ordinal);

        var entity = Assert.Single(CommandRun.Json(PrctlCommand.Create(), "-n", "project.max-locked-memory", "-i", "project", "user.root", "--host-dir", hostDir).Entities!);
        var control = Assert.Single(entity.Controls);
        Assert.Equal(((ulong)(2 * Chunk), 1048576UL), (control.Usage, control.Values[0].Value));

        (int Exit, string Out, string Err) Prctl(params string[] args) => CommandRun.Invoke(PrctlCommand.Create(), [.. args, "--host-dir", hostDir]);
        ulong Usage() => umem.System.ResourceControls.FindProject("user.root")!.LockedMemory.Usage;
    }

    [Fact]
    public async Task AReloadThroughTheAdminSocketRefusesABadFileWhole()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        string hostDir = Path.GetDirectoryName(umem.System.AdminSocketPath)!;
        string projectFile = Path.Combine(hostDir, "project");
        string good = File.ReadAllText(projectFile);
        using var client = Umem.Client.Admin.AdminClient.Connect(umem.System.AdminSocketPath!);

        File.WriteAllText(projectFile, good + "broken:x::::\n");
        var refused = client.Call(new Umem.Protocol.Admin.AdminRequest { Op = Umem.Protocol.Admin.AdminOp.Reload });
        Assert.Equal("EINVAL", refused.Error);
        Assert.Contains($"{projectFile}:3:", refused.Message, StringComparison.Ordinal);
        Assert.Equal(SampleSystem.LockedMemoryLimit, umem.System.ResourceControls.FindProject("user.root")!.LockedMemory.Limit);

        File.WriteAllText(projectFile, good.Replace($"{SampleSystem.LockedMemoryLimit}", "1048576", StringComparison.Ordinal));
        Assert.Null(client.Call(new Umem.Protocol.Admin.AdminRequest { Op = Umem.Protocol.Admin.AdminOp.Reload }).Error);
        Assert.Equal(1048576UL, umem.System.ResourceControls.FindProject("user.root")!.LockedMemory.Limit);
    }

    private static string LockArgs(long address, long length)
    {
        var a = new byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(a, address);
        BinaryPrimitives.WriteInt64LittleEndian(a.AsSpan(8), length);
        BinaryPrimitives.WriteUInt32LittleEndian(a.AsSpan(16), 3); // DDI_UMEMLOCK_READ | WRITE
        return Convert.ToHexString(a);
    }
}
