using System.Buffers.Binary;
using System.Globalization;
using Umem.Client;
using Umem.Platform;
using Umem.Tests.Ddi;

namespace Umem.Tests.Host;

/// <summary>
/// The hostile client (TestApp <c>attack</c>, raw syscalls, run as nobody) against real DDI drivers whose memory
/// comes from ddi_umem_alloc(9F) and leaves through devmap_umem_setup(9F) with a read-only maxprot, served by the
/// real umemd (<c>umem host</c>, a root child process), while a well-behaved bystander maps the same memory.
/// </summary>
public sealed class RealDriverAttackTests(ITestOutputHelper output)
{
    private static readonly int Page = SystemPage.Size;
    private const uint Nobody = 65534;

    // RegionsDriver's ioctls (tests/Umem.TestDrivers; not referenced: it must load only in the host's module context).
    private const uint IocCounts = 0x5201, IocRead = 0x5203, IocFill = 0x5204, IocRealloc = 0x5205;

    [Fact]
    public void TheRegionsDriversReadOnlyPageHoldsAgainstAHostileClientOfAnotherUid()
    {
        using var umemd = CliHost.Start([TestDriverPaths.Regions], "regions0");
        string node = umemd.NodePath("regions0");
        using var control = UmemDevice.Open(node); // this test's window on the driver (its ioctls)
        Fill(control, Page, Page, 0x3C); // page 1: read-only (maxprot PROT_READ|PROT_USER)

        using var bystander = ChildProcess.StartTestApp(null, "client"); // a well-behaved application, mapping meanwhile
        bystander.Ok($"open {node}");
        Assert.Equal("0", bystander.Ok($"map 0 {Page} rw"));
        Assert.Equal("1", bystander.Ok($"map {Page} {Page} r"));
        bystander.Ok($"fill 0 0 {Page} 21");
        var before = Counts(control);
        Assert.Equal(2, before.Live);

        using var attacker = ChildProcess.StartTestApp(Nobody, "attack", node, Str(Page), Str(Page), Str(umemd.Pid), "rw=0", "hold");
        var results = Results(attacker, "closed");
        Assert.Equal("ENXIO", results["mmap-request-write"]); // devmap_umem_setup(9F) refuses PROT_WRITE beyond maxprot: the driver's errno
        AttackExpectations.ReadOnlyGrantHeld(results, Page); // one page of the driver's four
        Assert.Equal("done", results["private-write"]);
        AttackExpectations.ReadWriteGrantSealed(results); // page 0: PROT_ALL
        Assert.Equal("EACCES", results["hostfd"]); // /proc/<umemd>/fd/N of a root process, seen by nobody

        // The attacker's connection is released: every devmap_map(9E) it caused had its devmap_unmap(9E).
        Eventually.WaitUntil(() => Counts(control).Live == before.Live, "the attacker's mappings unmapped");
        var after = Counts(control);
        output.WriteLine($"driver callbacks: before {before}, after {after}");
        Assert.Equal(2, after.Maps - before.Maps); // its read-only page and its read-write page
        Assert.Equal(after.Maps - before.Maps, after.Unmaps - before.Unmaps);

        // Nothing reached the driver's memory (not the private write, not a punch); the bystander is undisturbed.
        Assert.Equal("-1", bystander.Ok($"find 1 0 {Page} 60"));
        Assert.Equal("-1", bystander.Ok($"find 0 0 {Page} 21"));
        Assert.Equal(0x3C, DriverRead(control, Page));
        bystander.Ok("fill 0 0 1 22");
        Assert.Equal(22, DriverRead(control, 0));

        // Its connection is gone but it kept the fds: the read-only one still writes nothing.
        var kept = Check(attacker);
        Assert.Equal("EACCES", kept["kept-mmap-shared-write"]);
        Assert.Equal("EACCES", kept["kept-mprotect-write"]);
        Assert.Equal("EACCES", kept["kept-reopen-rdwr"]);
        Assert.Equal("EPERM", kept["kept-fchmod"]);
        Assert.Equal("EINVAL", kept["kept-ftruncate-shrink"]);
        Assert.Equal("EINVAL", kept["kept-ftruncate-grow"]);
        Assert.Equal("EBADF", kept["kept-punch-hole"]);
        Assert.Equal("60 -1", kept["kept-view"]); // the whole page, still the driver's bytes

        // The driver frees its memory and allocates the same shape again (what the allocator's cache would serve):
        // memory the attacker holds is never handed out again, so it sees none of the new data, and nothing it
        // writes through its kept read-write fd reaches the new memory.
        bystander.Ok("dispose 0");
        bystander.Ok("dispose 1");
        Eventually.WaitUntil(() => Counts(control).Live == 0, "the bystander's mappings unmapped");
        control.Ioctl(IocRealloc, [], []);
        Assert.Equal((0, 0), (DriverRead(control, 0), DriverRead(control, Page))); // zero-filled, not the old 22 and 0x3C
        Fill(control, 0, 2 * Page, 0x77);
        Assert.Equal("OK", Scribble(attacker, 0xEE));
        Assert.Equal("60 -1", Check(attacker)["kept-view"]);
        Assert.Equal(0x77, DriverRead(control, 0));

        // The bystander's next map and ioctl work, and see the new memory; a new client is served.
        Assert.Equal("2", bystander.Ok($"map 0 {2 * Page} r"));
        Assert.Equal("-1", bystander.Ok($"find 2 0 {2 * Page} 119"));
        Assert.StartsWith("0 ", bystander.Ok($"ioctl {Str(IocCounts)} - 12"), StringComparison.Ordinal);
        using (var late = UmemDevice.Open(node, FileAccess.Read))
        using (var m = late.Map(Page, Page, Prot.Read))
            Assert.True(m.Span.IndexOfAnyExcept((byte)0x77) < 0);

        attacker.CloseInput();
        Assert.Equal(0, attacker.WaitForExit());
        bystander.CloseInput();
        Assert.Equal(0, bystander.WaitForExit());
        control.Dispose();
        Assert.Equal(0, umemd.Stop()); // it survived everything; a graceful stop with no leak
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void TheShippedRingDriversReaderGrantHoldsAgainstAHostileClientOfAnotherUid()
    {
        using var umemd = CliHost.Start(["ring"], "ring0");
        string node = umemd.NodePath("ring0");
        int area = checked((int)SystemPage.PagesToBytes(SystemPage.BytesToPagesRoundUp(256 + (1 << 20)))); // RingDriver.AreaBytes

        using var writer = ChildProcess.StartTestApp(null, "client"); // the ring's writer: a bystander opened O_RDWR
        writer.Ok($"open {node}");
        Assert.Equal("0", writer.Ok($"map 0 {area} rw"));
        writer.Ok($"fill 0 0 {area} 60");

        // Opened O_RDONLY, as a reader: the ring driver exports the area with PROT_READ|PROT_USER.
        using var attacker = ChildProcess.StartTestApp(Nobody, "attack", node, "0", Str(area), Str(umemd.Pid), "open=r");
        var results = Results(attacker, "done");
        Assert.Equal(0, attacker.WaitForExit());
        Assert.Equal("EACCES", results["mmap-request-write"]); // mmap(2) of a file not opened for writing
        AttackExpectations.ReadOnlyGrantHeld(results, area); // the area is one grant unit
        Assert.Equal("done", results["private-write"]);
        Assert.Equal("EACCES", results["rw-mmap-request"]); // no read-write grant on a read-only open
        Assert.Equal("EACCES", results["hostfd"]);

        // The ring is intact, the writer undisturbed (its next map works), new readers are served.
        Assert.Equal("-1", writer.Ok($"find 0 0 {area} 60"));
        writer.Ok("fill 0 0 1 61");
        Assert.Equal("1", writer.Ok($"map 0 {area} r")); // the area is one grant unit: mapped whole
        Assert.Equal("61", writer.Ok("get 1 0"));
        using (var reader = UmemDevice.Open(node, FileAccess.Read))
        using (var m = reader.Map(0, area, Prot.Read))
            Assert.Equal(61, m.Span[0]);
        writer.CloseInput();
        Assert.Equal(0, writer.WaitForExit());
        Assert.Equal(0, umemd.Stop());
        Assert.DoesNotContain("leak", umemd.StandardError, StringComparison.Ordinal);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The attacker's "name result" lines up to the line <paramref name="last"/>.</summary>
    private Dictionary<string, string> Results(ChildProcess attacker, string last)
    {
        var results = new Dictionary<string, string>();
        string line;
        while ((line = attacker.ReadLine()) != last)
        {
            output.WriteLine(line);
            string[] p = line.Split(' ', 2);
            if (p.Length == 2) results[p[0]] = p[1];
        }
        return results;
    }

    private Dictionary<string, string> Check(ChildProcess attacker)
    {
        attacker.Send("check");
        return Results(attacker, "checked");
    }

    private string Scribble(ChildProcess attacker, byte value)
    {
        attacker.Send("scribble " + Str(value));
        return Results(attacker, "checked")["scribble"];
    }

    private static (int Maps, int Unmaps, int Live) Counts(UmemDevice device)
    {
        byte[] counts = new byte[12];
        Assert.Equal(12, device.Ioctl(IocCounts, [], counts).OutLength);
        return (BinaryPrimitives.ReadInt32LittleEndian(counts), BinaryPrimitives.ReadInt32LittleEndian(counts.AsSpan(4)),
            BinaryPrimitives.ReadInt32LittleEndian(counts.AsSpan(8)));
    }

    private static int DriverRead(UmemDevice device, long offset)
    {
        byte[] input = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(input, offset);
        return device.Ioctl(IocRead, input, []).Rval;
    }

    private static void Fill(UmemDevice device, long offset, long length, byte value)
    {
        byte[] input = new byte[17];
        BinaryPrimitives.WriteInt64LittleEndian(input, offset);
        BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(8), length);
        input[16] = value;
        device.Ioctl(IocFill, input, []);
    }
}
