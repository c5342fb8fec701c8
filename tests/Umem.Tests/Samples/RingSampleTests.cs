using Umem.Platform;
using Umem.Tests.Ddi;

namespace Umem.Tests.Samples;

/// <summary>
/// The ring samples through the real path: umemd's system in this process with the ring driver loaded, and the
/// writer and readers as separate processes mapping ring0 (the writer read-write, the readers read-only).
/// </summary>
public sealed class RingSampleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OneWriterAndTwoReadersSeeEveryByteOnceInOrder()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        string node = umem.System.NodePath("ring0");
        const int messages = 3000;

        using var writer = SampleSystem.Run("Umem.Samples.RingWriter", node, "--messages", $"{messages}", "--max-payload", "300", "--wait");
        writer.ReadUntil("ready");
        using var reader1 = SampleSystem.Run("Umem.Samples.RingReader", node);
        using var reader2 = SampleSystem.Run("Umem.Samples.RingReader", node);
        Assert.Equal("0", Report.Field(reader1.ReadUntil("ready"), "position"));
        Assert.Equal("0", Report.Field(reader2.ReadUntil("ready"), "position"));

        // Three processes map the one area: the writer with write access, the readers without.
        var mappings = umem.System.Kernel.GetMappings().Where(m => m.Node == "ring0").ToList();
        Assert.Equal(3, mappings.Count);
        Assert.Single(mappings, m => (m.Prot & Prot.Write) != 0);

        string written = writer.Command("go");
        Assert.Equal(0, writer.WaitForExit());
        Assert.Equal(messages, Report.Long(written, "messages"));
        foreach (var reader in new[] { reader1, reader2 })
        {
            string summary = reader.ReadUntil("messages=");
            output.WriteLine($"writer: {written}; reader {reader.Pid}: {summary}");
            Assert.Equal(0, reader.WaitForExit());
            Assert.Equal(messages, Report.Long(summary, "messages"));
            Assert.Equal(Report.Long(written, "bytes"), Report.Long(summary, "bytes"));
            Assert.Equal(Report.Field(written, "fnv"), Report.Field(summary, "fnv"));
            Assert.Equal(0, Report.Long(summary, "errors"));
        }
    }

    [Fact]
    public async Task TheKernelRefusesAReaderWriteAccess()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        using var reader = SampleSystem.Run("Umem.Samples.RingReader", umem.System.NodePath("ring0"), "--try-write");
        string line = reader.ReadUntil("write ");
        Assert.Equal(0, reader.WaitForExit());
        // mprotect(PROT_WRITE) on the read-only mapping: refused by the OS (the memfd is an O_RDONLY reopen).
        Assert.Equal("EACCES", Report.Field(line, "mprotect"));
        // mmap(PROT_WRITE, MAP_SHARED) of a node opened O_RDONLY: refused by the host (smmap_common).
        Assert.Equal("EACCES", Report.Field(line, "mmap"));
    }

    [Fact]
    public async Task AWriterRefusesAStreamLongerThanTheRing()
    {
        await using var umem = SampleSystem.Start(TestDriverPaths.Ring);
        using var writer = SampleSystem.Run("Umem.Samples.RingWriter", umem.System.NodePath("ring0"), "--messages", "5000", "--max-payload", "1000");
        Assert.Equal(2, writer.WaitForExit());   // asked wrongly: --messages with --max-payload exceed the ring
        Assert.Contains("cannot hold the writer back", writer.StandardError, StringComparison.Ordinal);
    }
}
