using System.Text;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Platform;
using Umem.TestDrivers;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>read(9E)/write(9E) over a uio (uio(9S), uiomove(9F), ureadc(9F), uwritec(9F)), and chpoll(9E) with pollwakeup(9F).</summary>
public sealed class ReadWriteTests
{
    [Fact]
    public void WritesAndReadsGoThroughTheDriversEntryPoints()
    {
        using var t = new TestKernel();
        var driver = t.Load("msg", new MessageDriver());
        using var file = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Read | OpenFlags.Write, Creds.Root64);

        Assert.Equal(11, file.Write("hello world"u8));
        Assert.Equal(11, driver.Count);
        var buffer = new byte[5];
        Assert.Equal(5, file.Read(buffer));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer));
        Assert.Equal(5, file.Read(buffer));
        Assert.Equal(" worl", Encoding.ASCII.GetString(buffer));
        Assert.Equal(1, file.Read(buffer));
        Assert.Equal(0, file.Read(buffer)); // empty: end of file
        Assert.Equal(Errno.EAGAIN, Assert.Throws<ErrnoException>(() => file.Read(buffer, nonBlock: true)).Errno);
    }

    [Fact]
    public void AFullDeviceTakesPartOfAWriteThenRefusesWithTheDriversErrno()
    {
        using var t = new TestKernel();
        t.Load("msg", new MessageDriver());
        using var file = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Write, Creds.Root64);
        Assert.Equal(MessageDriver.Capacity - 10, file.Write(new byte[MessageDriver.Capacity - 10]));
        Assert.Equal(10, file.Write(new byte[100]));  // only 10 fit: write(2) returns the bytes moved
        var e = Assert.Throws<ErrnoException>(() => file.Write(new byte[1]));
        Assert.Equal(Errno.ENOSPC, e.Errno);
        Assert.Contains("msg0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AccessModeAndMissingEntryPointsAreChecked()
    {
        using var t = new TestKernel();
        t.Load("msg", new MessageDriver());
        t.Load("p", new PlainDriver("p0"));
        using (var ro = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Read, Creds.Root64))
            Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => ro.Write("x"u8)).Errno);
        using (var wo = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Write, Creds.Root64))
        {
            Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => wo.Read(new byte[1])).Errno);
            Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => wo.Write("x"u8, offset: -1)).Errno);
        }
        using var plain = t.Kernel.Open("p0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => plain.Read(new byte[1])).Errno); // nodev
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => plain.Write("x"u8)).Errno);
        var closed = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Read, Creds.Root64);
        closed.Close();
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => closed.Read(new byte[1])).Errno);
    }

    [Fact]
    public void ChpollWakesAPollerWhenDataArrives()
    {
        using var t = new TestKernel();
        t.Load("msg", new MessageDriver());
        using var file = t.Kernel.Open(MessageDriver.NodeName, OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        Assert.Equal(PollEvents.None, file.Poll(PollEvents.In, anyYet: false, out var head));
        Assert.NotNull(head);
        var woken = new List<PollEvents>();
        using (head.Subscribe(e => woken.Add(e)))
            file.Write("x"u8);
        Assert.Equal([PollEvents.In], woken);
        Assert.Equal(PollEvents.In | PollEvents.Out, file.Poll(PollEvents.In | PollEvents.Out, anyYet: false, out head));
        Assert.Null(head);
    }

    /// <summary>A driver that moves its data with the byte-at-a-time calls and reports what the uio said.</summary>
    private sealed class ByteDriver : Driver, IRead, IWrite
    {
        internal List<string> Seen { get; } = [];

        protected internal override DdiResult Attach(DevInfo dip, AttachCommand cmd) =>
            dip.CreateMinorNode("b0", SpecType.Char, 0, NodeTypes.Pseudo, NodeAccess.FromOctal("0666"));

        protected internal override DdiResult Detach(DevInfo dip, DetachCommand cmd) => DdiResult.Success;

        public Errno Read(DevT dev, ref Uio uio, Cred cred)
        {
            Seen.Add($"read offset={uio.Offset} resid={uio.Resid}");
            for (byte c = (byte)'a'; Ureadc(c, ref uio) == 0; c++) { }
            return Errno.None;
        }

        public Errno Write(DevT dev, ref Uio uio, Cred cred)
        {
            Seen.Add($"write offset={uio.Offset} resid={uio.Resid}");
            var sink = new byte[2];
            if (Uiomove(sink, 3, UioRw.Write, ref uio) != Errno.EFAULT) return Errno.EIO; // 3 bytes do not fit in 2
            int c;
            while ((c = Uwritec(ref uio)) >= 0) Seen.Add($"byte {(char)c}");
            return Errno.None;
        }
    }

    [Fact]
    public void TheUioKeepsOffsetAndResidAsUiomoveAdvances()
    {
        using var t = new TestKernel();
        var driver = t.Load("b", new ByteDriver());
        using var file = t.Kernel.Open("b0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        var buffer = new byte[3];
        Assert.Equal(3, file.Read(buffer));
        Assert.Equal("abc", Encoding.ASCII.GetString(buffer));
        Assert.Equal(3, file.Read(buffer));               // the file offset advanced by 3
        Assert.Equal(2, file.Write("xy"u8, offset: 100)); // pwrite: its own offset; the file offset stays
        Assert.Equal(1, file.Read(buffer.AsSpan(0, 1)));
        Assert.Equal(
            ["read offset=0 resid=3", "read offset=3 resid=3", "write offset=100 resid=2", "byte x", "byte y", "read offset=6 resid=1"],
            driver.Seen);
    }
}
