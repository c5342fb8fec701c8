using System.Buffers;
using System.Buffers.Binary;
using Umem.Client;
using Umem.Platform;
using Umem.Protocol;
using Umem.TestDrivers;
using Umem.Tests.Host;

namespace Umem.Tests.Client;

/// <summary>The client library against a real host over real sockets (host and client in this process).</summary>
public sealed class UmemDeviceTests : IAsyncLifetime
{
    private static readonly int Page = SystemPage.Size;
    private TestHost _host = null!;

    public ValueTask InitializeAsync()
    {
        _host = TestHost.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public void MappedPagesAreTheDevicesPages()
    {
        using var device = UmemDevice.Open(_host.Path);
        Assert.Equal(Page, device.PageSize);
        Assert.Equal(Wire.Version, device.ProtocolVersion);
        using var m = device.Map(0, 2 * Page);
        Assert.Equal(2 * Page, m.Length);
        m.Span[10] = 0x11;
        m.Span[Page + 10] = 0x22;
        Assert.Equal(0x11, _host.Driver.Kernel(10, 1)[0]);
        Assert.Equal(0x22, _host.Driver.Kernel(Page + 10, 1)[0]);
        _host.Driver.Kernel(Page + 5, 1)[0] = 0x33; // the driver writes, the application sees it at once
        Assert.Equal(0x33, m.GetSpan(Page + 5, 1)[0]);
        unsafe
        {
            Assert.Equal(0x11, ((byte*)m.Pointer)[10]);
        }
    }

    [Fact]
    public void ReadOnlyRegionsAndOpenModes()
    {
        using var device = UmemDevice.Open(_host.Path);
        // PROT_WRITE beyond the region's maxprot: devmap_umem_setup(9F) fails, and devmap_setup answers ENXIO.
        var e = Assert.Throws<ErrnoException>(() => device.Map(2 * Page, Page, Prot.ReadWrite));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("mmap(", e.Message, StringComparison.Ordinal);
        _host.Driver.Kernel(2 * Page, 1)[0] = 0x44;
        using (var ro = device.Map(2 * Page, 2 * Page, Prot.Read))
            Assert.Equal(0x44, ro.Span[0]);

        using var reader = UmemDevice.Open(_host.Path, FileAccess.Read);
        Assert.Equal(Errno.EACCES, Assert.Throws<ErrnoException>(() => reader.Map(0, Page, Prot.ReadWrite)).Errno);
        using (var r = reader.Map(0, Page, Prot.Read))
            Assert.Equal(Page, r.Span.Length);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => device.Map(8 * Page, Page)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => device.Map(1, Page)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => device.Map(0, Page, Prot.Read, MapKind.Private)).Errno);
    }

    [Fact]
    public void MprotectGoesUpToTheRegionsMaxprotAsSegdevSetprotDoes()
    {
        // A PROT_READ mapping through a file open for writing: each region may later become what its maxprot allows.
        using var device = UmemDevice.Open(_host.Path);
        using var m = device.Map(0, 4 * Page, Prot.Read);
        using var rw = device.Map(0, 2 * Page, Prot.Read); // the read-write region alone
        Assert.Equal(Errno.None, rw.TryProtect(Prot.ReadWrite));
        rw.Span[7] = 0x5A;
        Assert.Equal(0x5A, _host.Driver.Kernel(7, 1)[0]);
        Assert.Equal(Errno.EACCES, m.TryProtect(Prot.ReadWrite)); // pages 2 and 3 are read-only regions
        using var ro = device.Map(2 * Page, 2 * Page, Prot.Read);
        Assert.Equal(Errno.EACCES, ro.TryProtect(Prot.ReadWrite));

        // Through a file open only for reading, no shared mapping can ever write (smmap_common).
        using var reader = UmemDevice.Open(_host.Path, FileAccess.Read);
        using var r = reader.Map(0, 2 * Page, Prot.Read);
        Assert.Equal(Errno.EACCES, r.TryProtect(Prot.ReadWrite));
    }

    [Fact]
    public async Task UnmapRunsHeadTailAndHoleAsSegdevDoes()
    {
        // Four pages of one maxprot: the driver exports them as one region, so the cases are the region's.
        await using var host = TestHost.Start([3, 3, 3, 3]);
        using var device = UmemDevice.Open(host.Path);
        var m = device.Map(0, 4 * Page, Prot.Read);
        long before = host.Driver.Unmaps.Count;
        m.Unmap(0, Page); // head
        m.Unmap(3 * Page, Page); // tail
        Assert.Throws<ArgumentOutOfRangeException>(() => m.GetSpan(0, 1)); // gone here too
        m.Unmap(Page, Page); // head of what is left ([1,3) -> [2,3))
        m.Dispose(); // the rest, whole
        Eventually.WaitUntil(() => host.Driver.Unmaps.Count >= before + 4, "the host to process the MUNMAP");
        var events = host.Driver.Unmaps.Skip((int)before).Select(u => (u.Offset / Page, u.Length / Page, u.Case)).ToArray();
        Assert.Equal([(0L, 1L, "head"), (3L, 1L, "tail"), (1L, 1L, "head"), (2L, 1L, "whole")], events);

        var h = device.Map(0, 4 * Page, Prot.Read);
        before = host.Driver.Unmaps.Count;
        h.Unmap(Page, 2 * Page); // a hole
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => h.Unmap(Page, 1)).Errno);
        Assert.Equal(Page, h.GetSpan(0, Page).Length);
        h.Dispose(); // two pieces remain: each is a whole piece (the MUNMAP goes out without waiting for its reply)
        Eventually.WaitUntil(() => host.Driver.Unmaps.Count >= before + 3, "the host to process the MUNMAP");
        events = host.Driver.Unmaps.Skip((int)before).Select(u => (u.Offset / Page, u.Length / Page, u.Case)).ToArray();
        Assert.Equal([(1L, 2L, "hole"), (0L, 1L, "whole"), (3L, 1L, "whole")], events);
        Eventually.WaitUntil(() => host.LiveMappings == 0, "no mappings");
    }

    [Fact]
    public void OwnedMemoryOutlivesTheMapping()
    {
        using var device = UmemDevice.Open(_host.Path);
        var m = device.Map(0, Page);
        IMemoryOwner<byte> owned = m.GetMemory(100, 10);
        Memory<byte> whole = m.Memory;
        var pin = whole.Pin();
        m.Dispose();
        owned.Memory.Span[0] = 0x5C; // still mapped: the owner holds the range
        Assert.Equal(0x5C, _host.Driver.Kernel(100, 1)[0]);
        unsafe
        {
            Assert.Equal(0x5C, ((byte*)pin.Pointer)[100]); // and the pin
        }
        Assert.Throws<ObjectDisposedException>(() => whole.Span.Length); // the mapping's own memory ended with it
        pin.Dispose();
        owned.Dispose();
        Assert.Throws<ObjectDisposedException>(() => owned.Memory.Span.Length);
    }

    [Fact]
    public void IoctlPassesDataBothWaysAndErrnos()
    {
        using var device = UmemDevice.Open(_host.Path);
        var output = new byte[8];
        var r = device.Ioctl(TestDeviceDriver.IoctlEcho, [1, 2, 3], output);
        Assert.Equal((3, 3), (r.Rval, r.OutLength));
        Assert.Equal([1, 2, 3], output[..3]);
        Assert.Equal(Errno.ENOTTY, Assert.Throws<ErrnoException>(() => device.Ioctl(0x1234, [], [])).Errno);
        var fail = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(fail, (int)Errno.ENXIO);
        var e = Assert.Throws<ErrnoException>(() => device.Ioctl(TestDeviceDriver.IoctlFail, fail, []));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("ioctl(", e.Message, StringComparison.Ordinal);
        // A driver that writes more than out_max is refused by the host (EIO), never overruns the client.
        // ddi_copyout(9F) beyond the room the application allowed fails; the driver returns EFAULT.
        Assert.Equal(Errno.EFAULT, Assert.Throws<ErrnoException>(() => device.Ioctl(TestDeviceDriver.IoctlEcho, [1, 2, 3], new byte[2])).Errno);
    }

    [Fact]
    public void RegisteredBuffersAreSharedWithTheHost()
    {
        using var device = UmemDevice.Open(_host.Path);
        using var buffer = device.RegisterBuffer(5000);
        Assert.Equal(2 * Page, buffer.Length);
        Assert.True(SystemPage.IsAligned(buffer.Address));
        buffer.Span[Page + 1] = 0x66;
        // The driver locks the application's memory by its address (ddi_umem_lock) and reads or writes it.
        var input = new byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(input, (long)buffer.Address + Page);
        BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(8), 4);
        var output = new byte[4];
        device.Ioctl(TestDeviceDriver.IoctlBufferPeek, input, output);
        Assert.Equal(0x66, output[1]);
        var fill = new byte[13];
        BinaryPrimitives.WriteInt64LittleEndian(fill, (long)buffer.Address);
        BinaryPrimitives.WriteInt32LittleEndian(fill.AsSpan(8), 3);
        fill[12] = 0x99;
        device.Ioctl(TestDeviceDriver.IoctlBufferFill, fill, []);
        Assert.Equal([0x99, 0x99, 0x99, 0], buffer.Span[..4].ToArray());
        Assert.Equal(1, _host.LiveBuffers);
        buffer.Dispose();
        Assert.Equal(0, _host.LiveBuffers);
    }

    [Fact]
    public void MappingsOutliveTheDeviceAndCloseWaitsForThem()
    {
        var device = UmemDevice.Open(_host.Path);
        long opens = _host.Driver.LiveOpens;
        var m = device.Map(0, Page);
        device.Dispose();
        Assert.Throws<ObjectDisposedException>(() => device.Map(0, Page));
        m.Span[0] = 0x12; // the mapping outlives close(2)
        Assert.Equal(0x12, _host.Driver.Kernel(0, 1)[0]);
        Assert.Equal(opens, _host.Driver.LiveOpens); // close(9E) waits for the last mapping
        long disconnects = _host.Host.ConnectionsClosed;
        m.Dispose();
        Eventually.WaitUntil(() => _host.Driver.LiveOpens == opens - 1, "close(9E) after the last unmap");
        Eventually.WaitUntil(() => _host.Host.ConnectionsClosed == disconnects + 1, "the connection to close with its last mapping");
    }

    [Fact]
    public void ManyThreadsShareOneDevice()
    {
        using var device = UmemDevice.Open(_host.Path);
        Parallel.For(0, 4, t =>
        {
            var output = new byte[16];
            for (int i = 0; i < 200; i++)
            {
                byte[] input = [(byte)t, (byte)i, (byte)(t ^ i)];
                var r = device.Ioctl(TestDeviceDriver.IoctlEcho, input, output);
                Assert.Equal(3, r.OutLength);
                Assert.Equal(input, output[..3]);
                using var m = device.Map((t % 2) * Page, Page);
                m.Span[t] = (byte)i;
                Assert.Equal((byte)i, m.Span[t]);
            }
        });
        Eventually.WaitUntil(() => _host.LiveMappings == 0, "every mapping released");
    }

    [Fact]
    public void OpeningNothingOrAForbiddenNodeNamesTheErrno()
    {
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => UmemDevice.Open(_host.Path + "-none")).Errno);
        Assert.Throws<ArgumentOutOfRangeException>(() => UmemDevice.Open(_host.Path, (FileAccess)0));
    }
}
