using System.Buffers.Binary;
using System.Text;
using Umem.Client.Admin;
using Umem.Host;
using Umem.Protocol.Admin;
using Umem.Tests.Host;

namespace Umem.Tests.Admin;

/// <summary>
/// Who may use the admin socket, from SO_PEERCRED: a uid that is neither root nor the host's is refused every change,
/// and reads unless it is in the configured admin group; and a malformed admin message is treated as a malformed
/// device message is (answered; the connection closed when the stream cannot be framed any more).
/// </summary>
public sealed class AdminAccessTests
{
    private const uint Nobody = 65534;
    private const uint AdminGid = 4242; // no such group is needed: membership is the process's, set by setpriv

    private static readonly string[] s_reads = ["""{"op":"stat"}""", """{"op":"modinfo"}""", """{"op":"pmap"}""", """{"op":"rctl-get","idType":"project","id":"default"}"""];

    private static readonly string[] s_changes =
    [
        """{"op":"modunload","name":"testdev"}""", """{"op":"modload","path":"/nonexistent/x.dll"}""", """{"op":"reload"}""",
        """{"op":"rctl-set","idType":"project","id":"default","control":"project.max-locked-memory","change":"replace","value":1}""",
    ];

    [Fact]
    public async Task AnotherUidIsRefusedReadsAndChangesWithoutTheAdminGroup()
    {
        await using var host = TestHost.Start();
        string socket = host.Umemd.AdminSocketPath!;
        using var app = ChildProcess.StartTestApp(Nobody, "client");
        foreach (string request in s_reads.Concat(s_changes))
            Assert.StartsWith("err EPERM", app.Command($"admin {socket} {request}"), StringComparison.Ordinal);
        Assert.NotNull(host.Umemd.Kernel.FindModule("testdev"));
        Assert.True(host.Umemd.Metrics.DenialCounts()["admin access"] >= 8);
    }

    [Fact]
    public async Task TheAdminGroupMayReadButNotChange()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { AdminGroup = AdminGid });
        string socket = host.Umemd.AdminSocketPath!;
        using var member = ChildProcess.StartTestAppWithGroups(Nobody, [AdminGid], "client");
        foreach (string request in s_reads) Assert.Equal("ok", member.Command($"admin {socket} {request}"));
        foreach (string request in s_changes) Assert.StartsWith("err EPERM", member.Command($"admin {socket} {request}"), StringComparison.Ordinal);
        using var other = ChildProcess.StartTestApp(Nobody, "client");
        Assert.StartsWith("err EPERM", other.Command($"admin {socket} {s_reads[0]}"), StringComparison.Ordinal);
        Assert.NotNull(host.Umemd.Kernel.FindModule("testdev"));
    }

    [Fact]
    public async Task RootMayChange()
    {
        await using var host = TestHost.Start();
        using var app = ChildProcess.StartTestApp(null, "client");
        Assert.Equal("ok", app.Command($"admin {host.Umemd.AdminSocketPath} {s_changes[0]}"));
        Assert.Null(host.Umemd.Kernel.FindModule("testdev"));
    }

    [Theory]
    [InlineData("magic", "EBADMSG")]
    [InlineData("version", "EPROTONOSUPPORT")]
    [InlineData("length", "EMSGSIZE")]
    [InlineData("short", "EMSGSIZE")]
    [InlineData("reply", "EPROTO")]
    public async Task ABadHeaderIsAnsweredAndTheConnectionClosed(string fault, string errno)
    {
        await using var host = TestHost.Start();
        using var client = AdminClient.Connect(host.Umemd.AdminSocketPath!);
        var message = AdminWire.Frame(AdminWire.Request, 7, Encoding.UTF8.GetBytes("""{"op":"stat"}"""));
        switch (fault)
        {
            case "magic": message[0] ^= 0xFF; break;
            case "version": BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), 2); break;
            case "length": BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), AdminWire.MaxRequest + 1); break;
            case "short": BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), 4); break;
            default: BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), AdminWire.Reply); break;
        }
        var reply = client.CallRaw(message);
        Assert.Equal(errno, reply?.Error);
        Assert.True(client.IsClosedByHost(TimeSpan.FromSeconds(30)));
        using var next = AdminClient.Connect(host.Umemd.AdminSocketPath!); // the host goes on
        Assert.Null(next.Call(new AdminRequest { Op = AdminOp.Stat }).Error);
    }

    [Theory]
    [InlineData("""not json""")]
    [InlineData("""{}""")]
    [InlineData("""{"op":"format-disk"}""")]
    [InlineData("""{"op":"stat","extra":1}""")]
    [InlineData("""{"op":"pmap","name":"xx"}""")]
    [InlineData("""{"op":"pmap","pid":-3}""")]
    [InlineData("""{"op":"modload","path":"relative.dll"}""")]
    [InlineData("""{"op":"modunload"}""")]
    [InlineData("""{"op":"rctl-get","idType":"task","id":"1"}""")]
    [InlineData("""{"op":"rctl-get","idType":"process","id":"abc"}""")]
    [InlineData("""{"op":"rctl-set","idType":"project","id":"1","control":"project.max-locked-memory","change":"twice","value":1}""")]
    [InlineData("""{"op":"modinfo","name":"a\u0001b"}""")]
    [InlineData("""{"op":"pmap","pid":"12"}""")]
    public async Task ABadPayloadIsEinvalAndTheConnectionGoesOn(string json)
    {
        await using var host = TestHost.Start();
        using var client = AdminClient.Connect(host.Umemd.AdminSocketPath!);
        var reply = client.CallRaw(AdminWire.Frame(AdminWire.Request, 1, Encoding.UTF8.GetBytes(json)));
        Assert.Equal("EINVAL", reply?.Error);
        Assert.False(string.IsNullOrEmpty(reply!.Message));
        Assert.Null(client.Call(new AdminRequest { Op = AdminOp.Stat }).Error);
    }

    [Fact]
    public async Task AdminConnectionsCountAgainstTheHostsConnectionLimits()
    {
        await using var host = TestHost.Start(options: new DeviceHostOptions { MaxConnectionsPerUid = 2 });
        string socket = host.Umemd.AdminSocketPath!;
        using var a = ChildProcess.StartTestApp(Nobody, "client");
        a.Ok($"open {host.Path}");
        using var b = ChildProcess.StartTestApp(Nobody, "client");
        b.Ok($"open {host.Path}");
        using var c = ChildProcess.StartTestApp(Nobody, "client");
        // The uid's two device connections fill its share: its admin connection is closed at once, before any answer.
        string answer = c.Command($"admin {socket} {s_reads[0]}");
        Assert.True(answer.StartsWith("err E", StringComparison.Ordinal) && !answer.Contains("EPERM", StringComparison.Ordinal), answer); // ECONNRESET or EPIPE
        Assert.Equal(1, host.Umemd.Metrics.DenialCounts()["connections per uid"]);
    }
}
