using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// The C client under a low RLIMIT_NOFILE, against the real device host: a 2,046-segment map needs 2,046 fds, which
/// arrive 250 per message and are mapped and closed message by message, so it works under the common soft limit of
/// 1,024 (and under a hard one of 1,024); a soft limit too low for one message's fds is raised to the hard one; a
/// hard limit too low fails that one map with EMFILE. Every time the connection stays usable and no fd is left open.
/// </summary>
public sealed partial class CClientBuildTests
{
    public static TheoryData<string, string, string, string> FileLimits => new()
    {
        { "64", "1024:1024", "ok", "soft 1024, hard 1024" },
        { "64", "100:4096", "ok", "soft 4096, hard 4096" },
        { "64", "100:100", "EMFILE", "soft 100, hard 100" },
        { "32", "1024:1024", "ok", "soft 1024, hard 1024" },
        { "32", "100:100", "EMFILE", "soft 100, hard 100" },
    };

    [Theory]
    [MemberData(nameof(FileLimits))]
    public async Task AMapOfMaxSegmentsCopesWithALowFileLimit(string model, string nofile, string expect, string limitAfter)
    {
        var runner = Runner.For(model);
        await using var host = TestHost.Start(Enumerable.Repeat(3, Wire.MaxSegments).ToArray());
        var r = runner.RunWithFileLimit(nofile, "test_bigmap", host.Path, Wire.MaxSegments.ToString(System.Globalization.CultureInfo.InvariantCulture), expect);
        AssertTap(r, minimumPassed: 6);
        Assert.Contains($"# RLIMIT_NOFILE after the map: {limitAfter}\n", r.Stdout, StringComparison.Ordinal);
        if (expect == "ok")
        {
            foreach (int page in new[] { 0, 1, 249, 250, 1023, 1024, 2045 })
                Assert.Equal(0x5a000000UL + (ulong)page, BinaryPrimitives.ReadUInt64LittleEndian(host.Driver.Kernel((long)page * SystemPage.Size, 8)));
        }
        Eventually.WaitUntil(() => host.LiveMappings == 0, "the host to release every mapping of the closed connection");
    }
}
