using Umem.Platform;
using Umem.Tests.Ddi;
using Umem.Tests.Samples;

namespace Umem.Tests.CClient;

/// <summary>
/// The C samples (clients/c/samples) through the real path: umemd's system in this process with the shipped ring and
/// lockmem drivers, the samples as separate processes, 64- and 32-bit. The C ring writer and readers share the ring's
/// layout and messages with the C# samples, so a stream written by one language is checked byte for byte by the other.
/// </summary>
public sealed partial class CClientBuildTests
{
    private const long LockLength = 256 << 10;

    /// <summary>Writer and readers: c64, c32 (C, 64- and 32-bit) and cs (the C# sample).</summary>
    public static TheoryData<string, string[]> RingPeers => new()
    {
        { "c64", ["c64", "c32", "cs"] },
        { "cs", ["c64", "c32"] },
        { "c32", ["c64", "cs"] },
    };

    [Theory]
    [MemberData(nameof(RingPeers))]
    public async Task ARingWrittenInOneLanguageIsReadWholeInTheOther(string writerKind, string[] readerKinds)
    {
        const int messages = 3000;
        var starters = readerKinds.Append(writerKind).Distinct().ToDictionary(k => k, RingSample);   // skips first if 32-bit cannot run
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        string node = umem.System.NodePath("ring0");
        using var writer = starters[writerKind]("writer", [node, "--messages", $"{messages}", "--max-payload", "300", "--wait"]);
        writer.ReadUntil("ready");
        var readers = readerKinds.Select(k => starters[k]("reader", [node])).ToList();
        try
        {
            foreach (var reader in readers)
                Assert.Equal("0", Report.Field(reader.ReadUntil("ready"), "position"));
            // Every process maps the one area; only the writer may write.
            var mappings = umem.System.Kernel.GetMappings().Where(m => m.Node == "ring0").ToList();
            Assert.Equal(readers.Count + 1, mappings.Count);
            Assert.Single(mappings, m => (m.Prot & Prot.Write) != 0);

            string written = writer.Command("go");
            Assert.Equal(0, writer.WaitForExit());
            Assert.Equal(messages, Report.Long(written, "messages"));
            foreach (var reader in readers)
            {
                string summary = reader.ReadUntil("messages=");
                Assert.True(reader.WaitForExit() == 0, reader.StandardError);
                Assert.Equal(messages, Report.Long(summary, "messages"));
                Assert.Equal(Report.Long(written, "bytes"), Report.Long(summary, "bytes"));
                Assert.Equal(Report.Field(written, "fnv"), Report.Field(summary, "fnv"));
                Assert.Equal(0, Report.Long(summary, "errors"));
            }
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
        }
    }

    [Theory]
    [InlineData("64")]
    [InlineData("32")]
    public async Task TheKernelAndTheHostRefuseACReaderWriteAccess(string model)
    {
        var runner = Runner.For(model);
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        using var reader = runner.Child("umem_ring_reader", umem.System.NodePath("ring0"), "--try-write");
        string line = reader.ReadUntil("write ");
        Assert.Equal(0, reader.WaitForExit());
        Assert.Equal("EACCES", Report.Field(line, "mprotect"));   // the OS: the grant is an O_RDONLY memfd
        Assert.Equal("EACCES", Report.Field(line, "mmap"));       // the host: PROT_WRITE on a node opened O_RDONLY
    }

    [Fact]
    public async Task TheCWriterRefusesAStreamLongerThanTheRing()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        using var writer = Runner.For("64").Child("umem_ring_writer", umem.System.NodePath("ring0"), "--messages", "5000", "--max-payload", "1000");
        Assert.Equal(2, writer.WaitForExit());   // asked wrongly: --messages with --max-payload exceed the ring
        Assert.Contains("cannot hold the writer back", writer.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("64", false)]
    [InlineData("64", true)]
    [InlineData("32", false)]
    [InlineData("32", true)]
    public async Task TheCLockDemoChargesTheProjectWhileLocked(string model, bool longTerm)
    {
        var runner = Runner.For(model);
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        string[] args = [umem.System.NodePath("lockmem0"), "--length", $"{LockLength}", "--locks", "2", .. longTerm ? new[] { "--longterm" } : []];
        using var demo = runner.Child("umem_lock_demo", args);
        var lines = demo.ReadToEnd();
        Assert.True(demo.WaitForExit() == 0, demo.StandardError);
        Assert.Equal(0, LockUsage(lines, "registered"));
        Assert.Equal(2 * LockLength, LockUsage(lines, "locked"));   // overlapping locks are each charged in full
        Assert.Equal(0, LockUsage(lines, "unlocked"));
        Assert.Equal(SampleSystem.LockedMemoryLimit, Report.ULong(lines[0], "limit"));
        Assert.All(umem.System.ResourceControls.ProjectEntities, p => Assert.Equal(0ul, p.LockedMemory.Usage));
    }

    [Theory]
    [InlineData("64")]
    [InlineData("32")]
    public async Task AKilledCLockDemosLocksAreReleased(string model)
    {
        var runner = Runner.For(model);
        await using var umem = SampleSystem.Start(TestDriverPaths.Lockmem);
        var system = umem.System;
        using var demo = runner.Child("umem_lock_demo", system.NodePath("lockmem0"), "--length", $"{LockLength}", "--locks", "2", "--longterm", "--hold");
        Assert.Equal(2 * LockLength, Report.Long(demo.ReadUntil("stage=locked"), "usage"));
        demo.ReadUntil("holding");
        Assert.Equal((ulong)(2 * LockLength), ProjectUsage());
        var node = system.Kernel.FindNode("lockmem0")!;
        Assert.Equal(1, node.OpenFiles);

        demo.Kill();   // SIGKILL: the application never unlocks
        Eventually.WaitUntil(() => ProjectUsage() == 0 && node.OpenFiles == 0, "the project uncharged and the node closed after SIGKILL");

        ulong ProjectUsage() => system.ResourceControls.ProjectEntities.Aggregate(0ul, (sum, p) => sum + p.LockedMemory.Usage);
    }

    /// <summary>C program, its arguments ({node} for a node path that does not exist), what the usage error names.</summary>
    public static TheoryData<string, string[], string> CMistakes => new()
    {
        { "umem_ring_writer", ["{node}", "--messages", "many"], "--messages many: not a whole number" },
        { "umem_ring_writer", ["{node}", "--messages", "5000", "--max-payload", "1000"], "--messages 5000 with --max-payload 1000: more than the ring's" },
        { "umem_ring_writer", ["--wiat"], "unknown option '--wiat'" },
        { "umem_ring_reader", ["{node}", "--try-wrte"], "unknown option '--try-wrte'" },
        { "umem_ring_reader", [], "NODE is missing" },
        { "umem_lock_demo", ["{node}", "--length", "1000"], "--length 1000: not a multiple of the page size" },
        { "umem_lock_demo", ["{node}", "--locks", "0"], "--locks 0: not a whole number from 1 to" },
        { "umem_greet", ["{node}", "me", "65", "10"], "EXPECT '65': not a whole number from 1 to 64" },
        { "umem_greet", ["{node}", "me"], "2 arguments, expected 4" },
    };

    /// <summary>The C samples and example with the arguments that reach the node.</summary>
    public static TheoryData<string, string[]> COpens => new()
    {
        { "umem_ring_writer", [] }, { "umem_ring_reader", [] }, { "umem_ring_reader", ["--try-write"] },
        { "umem_lock_demo", [] }, { "umem_greet", ["me", "1", "10"] },
    };

    [Theory]
    [MemberData(nameof(CMistakes))]
    public void ACUsageMistakeExits2NamingTheOption(string program, string[] args, string named)
    {
        using var app = Runner.For("64").Child(program, [.. args.Select(a => a == "{node}" ? SampleUsageTests.MissingNode() : a)]);
        Assert.Equal(2, app.WaitForExit());
        Assert.Contains(named, app.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(COpens))]
    public void ACMissingNodeExits1NamingENOENT(string program, string[] args)
    {
        string node = SampleUsageTests.MissingNode();
        using var app = Runner.For("64").Child(program, [node, .. args]);
        Assert.Equal(1, app.WaitForExit());
        string line = Assert.Single(app.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(node, line, StringComparison.Ordinal);
        Assert.Contains("ENOENT", line, StringComparison.Ordinal);
    }

    /// <summary>How to start a ring sample ("writer" or "reader") of one kind: the C# sample, or the C one of a model.</summary>
    private static Func<string, string[], ChildProcess> RingSample(string kind)
    {
        if (kind == "cs")
            return (role, args) => SampleSystem.Run(role == "writer" ? "Umem.Samples.RingWriter" : "Umem.Samples.RingReader", args);
        var runner = Runner.For(kind == "c64" ? "64" : "32");
        return (role, args) => runner.Child($"umem_ring_{role}", args);
    }

    private static long LockUsage(List<string> lines, string stage) =>
        Report.Long(Assert.Single(lines, l => l.StartsWith($"stage={stage} ", StringComparison.Ordinal)), "usage");
}
