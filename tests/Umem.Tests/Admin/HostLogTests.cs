using System.Buffers.Binary;
using System.Globalization;
using Umem.Host;
using Umem.Tests.Ddi;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>The host's structured log lines for operators, by their stable event ids (docs/operating.md, Logs).</summary>
public sealed class HostLogTests
{
    private const int Chunk = 256 << 10;
    private const uint Nobody = 65534;

    [Fact]
    public async Task ModulesDenialsAdminRequestsAndClientsThatWentAwayAreLogged()
    {
        string dir = TestHost.NewDirectory();
        string projects = Path.Combine(dir, "project");
        File.WriteAllText(projects, $"user.root:1::::project.max-locked-memory=(privileged,{Chunk},deny)\ndefault:3::::\n");
        var log = new RecordingLog();
        var system = UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = Path.Combine(dir, "dev") }, ProjectFile = projects }, log);
        try
        {
            system.Load(TestDriverPaths.Lockmem);
            Assert.Contains(system.AdminSocketPath!, Assert.Single(log.With(30)), StringComparison.Ordinal);
            Assert.Contains("loaded lockmem from", Assert.Single(log.With(200)), StringComparison.Ordinal);

            // A lock over the project's value: denied, the line names the pid, the bytes and the control.
            using (var app = ChildProcess.StartTestApp(null, "client"))
            {
                app.Ok($"open {system.NodePath("lockmem0")}");
                app.Ok($"register {2 * Chunk}");
                long address = long.Parse(app.Ok("baddr 0"), CultureInfo.InvariantCulture);
                var args = new byte[20];
                BinaryPrimitives.WriteInt64LittleEndian(args, address);
                BinaryPrimitives.WriteInt64LittleEndian(args.AsSpan(8), 2 * Chunk);
                BinaryPrimitives.WriteUInt32LittleEndian(args.AsSpan(16), 3);
                Assert.StartsWith("err ENOMEM", app.Command($"ioctl {('L' << 8) | 1} {Convert.ToHexString(args)} 0"), StringComparison.Ordinal);
                string denied = Assert.Single(log.With(22));
                Assert.Contains($"{2 * Chunk} bytes for pid {app.Pid}", denied, StringComparison.Ordinal);
                Assert.Contains("project.max-locked-memory", denied, StringComparison.Ordinal);

                // Killed while it holds an open and a buffer: one line saying what was released.
                int pid = app.Pid;
                app.Kill();
                Eventually.WaitUntil(() => log.With(21).Count == 1, "the line about the client that went away");
                Assert.Contains($"pid {pid}", log.With(21)[0], StringComparison.Ordinal);
                Assert.Contains("0 mappings, 1 buffers, 1 opens", log.With(21)[0], StringComparison.Ordinal);
            }

            // An admin change by root, and one refused to nobody, each with pid and uid.
            using (var root = ChildProcess.StartTestApp(null, "client"))
                Assert.Equal("ok", root.Command($"admin {system.AdminSocketPath} {{\"op\":\"reload\"}}"));
            Assert.Contains("admin reload by pid", Assert.Single(log.With(34)), StringComparison.Ordinal);
            Assert.Single(log.With(204));
            using (var nobody = ChildProcess.StartTestApp(Nobody, "client"))
                Assert.StartsWith("err EPERM", nobody.Command($"admin {system.AdminSocketPath} {{\"op\":\"modunload\",\"name\":\"lockmem\"}}"), StringComparison.Ordinal);
            Assert.Contains($"uid {Nobody} refused with EPERM", Assert.Single(log.With(32)), StringComparison.Ordinal);

            system.Unload("lockmem");
            Assert.Contains("unloaded lockmem; 0 cookies leaked", Assert.Single(log.With(206)), StringComparison.Ordinal);
        }
        finally
        {
            await system.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
