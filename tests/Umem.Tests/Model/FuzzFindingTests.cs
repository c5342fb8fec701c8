using System.Buffers.Binary;
using Umem.Client;
using Umem.Platform;
using Umem.TestDrivers;
using Umem.Tests.Host;

namespace Umem.Tests.Model;

/// <summary>What fuzzing found, tested directly (the inputs themselves are in tests/Umem.Fuzz/regressions).</summary>
public sealed class FuzzFindingTests
{
    /// <summary>
    /// AFL++ on the host target (regressions/host/ioctl-driver-returns-a-non-errno): a driver's ioctl(9E) returned
    /// 0x23000000, and the host put it on the wire as the reply's errno, which is no errno (a negative one was
    /// logged as an internal error). The kernel now answers any value outside 1–4095 from an entry point with EIO.
    /// </summary>
    [Theory]
    [InlineData(0x2300_0000)]
    [InlineData(4096)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public async Task ADriverReturningANonErrnoIsAnsweredEio(int value)
    {
        await using var host = TestHost.Start();
        using var device = UmemDevice.Open(host.Path);
        byte[] input = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(input, value);
        var e = Assert.Throws<ErrnoException>(() => device.Ioctl(TestDeviceDriver.IoctlFail, input, []));
        Assert.Equal(Errno.EIO, e.Errno);
        // The connection goes on: a real errno still comes back as it is.
        BinaryPrimitives.WriteInt32LittleEndian(input, (int)Errno.EBUSY);
        Assert.Equal(Errno.EBUSY, Assert.Throws<ErrnoException>(() => device.Ioctl(TestDeviceDriver.IoctlFail, input, [])).Errno);
    }
}
