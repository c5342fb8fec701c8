using System.Text;
using Umem.Client;
using Umem.Host;
using Umem.TestDrivers;
using Umem.Tests.Host;

namespace Umem.Tests.CClient;

/// <summary>
/// libumem-preload.so (clients/c/preload): programs built without any Umem header or library, under LD_PRELOAD, open
/// the real host's node as a character device and map the page a C# client maps. plain_map (64- and 32-bit) checks
/// a device node's behaviour and errors from inside (fstat, mmap beyond the device: ENXIO, a read-only open mapped
/// writable: EACCES, closed fds: EBADF, no fd left open); here the host's side is checked: the C# client and the
/// driver see what it wrote, and once it exits nothing of it is left in the host.
/// </summary>
public sealed partial class CClientBuildTests
{
    private const int SeenOffset = 1024; // where plain_map reads what others wrote (its "seen:" line)

    [Theory]
    [MemberData(nameof(Models))]
    public async Task AnUnmodifiedProgramMapsTheNodeThroughThePreload(string model)
    {
        var runner = Runner.For(model);
        await using var host = TestHost.Start();
        using var csharp = UmemDevice.Open(host.Path);
        using var page = csharp.Map(0, Umem.Platform.SystemPage.Size);
        Encoding.ASCII.GetBytes("from a C# client\0").CopyTo(page.GetSpan(SeenOffset, 17));

        string message = $"hello from plain_map {model}";
        var r = runner.RunPreloaded("plain_map", host.Path, host.Driver.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), message);

        AssertTap(r, minimumPassed: 24);
        Assert.Contains("seen: from a C# client\n", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("# mode 0666\n", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(message + "\0", Encoding.ASCII.GetString(page.GetSpan(0, message.Length + 1)));
        Assert.Equal(message + "\0", Encoding.ASCII.GetString(host.Driver.Kernel(0, message.Length + 1)));
        Eventually.WaitUntil(() => host.LiveMappings == 1 && host.Driver.LiveOpens == 1,
            "the host to keep only the C# client's open and mapping once plain_map is gone");
    }

    [Fact]
    public async Task PythonsMmapModuleMapsTheNodeThroughThePreload()
    {
        string? python = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists)
            ?? (OnPath("python3") ? "python3" : null);
        if (python is null)
            Assert.Skip("python3 is not installed (apt-get install python3)");
        var runner = Runner.For("64");
        await using var host = TestHost.Start();
        using var csharp = UmemDevice.Open(host.Path);
        using var page = csharp.Map(0, Umem.Platform.SystemPage.Size);
        Encoding.ASCII.GetBytes("from C#").CopyTo(page.GetSpan(SeenOffset, 7));

        const string Script = """
            import mmap, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            st = os.fstat(fd)
            m = mmap.mmap(fd, mmap.PAGESIZE)
            print("chr" if (st.st_mode & 0o170000) == 0o020000 else "not chr", m[1024:1031].decode())
            m[0:11] = b"from python"
            m.close()
            os.close(fd)
            """;
        var r = runner.RunPreloadedCommand(python, "-c", Script, host.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("chr from C#\n", r.Stdout);
        Assert.Equal("from python", Encoding.ASCII.GetString(page.GetSpan(0, 11)));
        Eventually.WaitUntil(() => host.LiveMappings == 1 && host.Driver.LiveOpens == 1,
            "the host to keep only the C# client's open and mapping once python is gone");
    }

    [Fact]
    public async Task CatDdAndAShellRedirectionReadAndWriteANodeThroughThePreload()
    {
        var runner = Runner.For("64");
        string dir = TestHost.NewDirectory();
        try
        {
            await using var system = UmemSystem.Start(new UmemSystemOptions { Host = new DeviceHostOptions { DeviceDirectory = Path.Combine(dir, "dev") } });
            var driver = new MessageDriver();
            system.Kernel.ModLoad("msg", () => driver);
            string node = system.NodePath(MessageDriver.NodeName);

            using (var csharp = UmemDevice.Open(node))
                Assert.Equal(6, csharp.Write("hello\n"u8)); // write(9E) through the C# client
            var cat = runner.RunPreloadedCommand("cat", node);
            Assert.True(cat.ExitCode == 0, cat.ToString());
            Assert.Equal("hello\n", cat.Stdout); // read(9E) until it returns 0 (end of file)

            // The shell opens the node for cat's output (bash's own printf writes through stdio, which the preload cannot see).
            var sh = runner.RunPreloadedCommand("bash", "-c", $"printf 'from the shell' | cat > '{node}' && dd if='{node}' bs=4 status=none");
            Assert.True(sh.ExitCode == 0, sh.ToString());
            Assert.Equal("from the shell", sh.Stdout);
            Assert.Equal(0, driver.Count);

            using var reader = UmemDevice.Open(node, FileAccess.Read);
            var buffer = new byte[8];
            Assert.Equal(0, reader.Read(buffer));
            Assert.Equal(Umem.Platform.Errno.EAGAIN, Assert.Throws<Umem.Platform.ErrnoException>(() => reader.Read(buffer, nonBlock: true)).Errno);
            Assert.Equal(Umem.Platform.Errno.EBADF, Assert.Throws<Umem.Platform.ErrnoException>(() => reader.Write("x"u8)).Errno);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ThreadsOpenMapAndCloseTheNodeAtOnceThroughThePreload()
    {
        var runner = Runner.For("64");
        await using var host = TestHost.Start();
        // 8 threads x 100 rounds of open, mmap, write, munmap, dup, close, between calls on ordinary fds.
        var r = runner.RunPreloaded("plain_threads", host.Path, "8", "100");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("# 8 threads x 100 rounds: 0 failures", r.Stdout, StringComparison.Ordinal);
        for (int t = 0; t < 8; t++) // each thread's last round is in its cell
            Assert.Equal(99UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(host.Driver.Kernel(t * 64, 8)));
        Eventually.WaitUntil(() => host.LiveMappings == 0 && host.Driver.LiveOpens == 0, "the host to hold nothing of the program");
    }
}
