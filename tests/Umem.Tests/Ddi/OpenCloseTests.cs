using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Platform;

namespace Umem.Tests.Ddi;

/// <summary>open(2)/close(2) of nodes: the node's mode, open(9E)/close(9E), and the open file's lifetime.</summary>
public sealed class OpenCloseTests
{
    [Theory]
    // mode, owner uid/gid, requester uid/gid, flags, allowed
    [InlineData("0600", 100u, 100u, 0u, 0u, OpenFlags.Read | OpenFlags.Write, true)]   // root bypasses
    [InlineData("0600", 100u, 100u, 100u, 5u, OpenFlags.Read | OpenFlags.Write, true)] // owner rw
    [InlineData("0600", 100u, 100u, 101u, 100u, OpenFlags.Read, false)]                // group has nothing
    [InlineData("0640", 100u, 100u, 101u, 100u, OpenFlags.Read, true)]                 // group r
    [InlineData("0640", 100u, 100u, 101u, 100u, OpenFlags.Write, false)]               // group not w
    [InlineData("0604", 100u, 100u, 102u, 102u, OpenFlags.Read, true)]                 // other r
    [InlineData("0604", 100u, 100u, 102u, 102u, OpenFlags.Read | OpenFlags.Write, false)]
    [InlineData("0066", 100u, 100u, 100u, 100u, OpenFlags.Read, false)]                // owner bits decide for the owner
    [InlineData("0444", 0u, 0u, 1000u, 1000u, OpenFlags.Write, false)]
    [InlineData("0222", 0u, 0u, 1000u, 1000u, OpenFlags.Write, true)]
    public void TheNodesModeDecidesLikeADevNode(string mode, uint owner, uint group, uint uid, uint gid, OpenFlags flags, bool allowed)
    {
        using var t = new TestKernel();
        t.Load("m", new ScriptedDriver("m0") { Pages = 0, NodeMode = mode, NodeUid = owner, NodeGid = group });
        var cred = Creds.User(uid, gid);
        if (allowed)
        {
            using var file = t.Kernel.Open("m0", flags, cred);
            Assert.Equal(flags, file.Flags);
        }
        else
        {
            var e = Assert.Throws<ErrnoException>(() => t.Kernel.Open("m0", flags, cred));
            Assert.Equal(Errno.EACCES, e.Errno);
            Assert.Contains("m0", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OpenArgumentsAreChecked()
    {
        using var t = new TestKernel();
        var driver = t.Load("o", new ScriptedDriver("o0") { Pages = 0 });
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => t.Kernel.Open("nosuch", OpenFlags.Read, Creds.Root64)).Errno);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => t.Kernel.Open(new DevT(0xdead_0000_0001), OpenFlags.Read, Creds.Root64)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => t.Kernel.Open("o0", OpenFlags.None, Creds.Root64)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => t.Kernel.Open("o0", OpenFlags.Read | OpenFlags.ModelLP64, Creds.Root64)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => t.Kernel.Open("o0", OpenFlags.Read, Creds.Root64 with { Model = DataModel.None })).Errno);

        using var byDev = t.Kernel.Open(driver.Dip!.Nodes[0].Dev, OpenFlags.Read, Creds.Root64);
        Assert.Equal("o0", byDev.Node.Name);
    }

    [Fact]
    public void OpenErrnoReachesTheCallerAndThrowsBecomeEio()
    {
        using var t = new TestKernel();
        var driver = t.Load("e", new ScriptedDriver("e0") { Pages = 0 });
        driver.OnOpen = (_, _, cred) => cred.Uid == 0 ? Errno.EPERM : Errno.None;
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => t.Kernel.Open("e0", OpenFlags.Read, Creds.Root64)).Errno);
        driver.OnOpen = (_, _, _) => throw new InvalidOperationException("driver bug");
        var e = Assert.Throws<ErrnoException>(() => t.Kernel.Open("e0", OpenFlags.Read, Creds.Root64));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("driver bug", e.Message, StringComparison.Ordinal);
        Assert.Contains(t.Messages, m => m.Text.Contains("open(9E) threw", StringComparison.Ordinal));
        Assert.Equal(0, t.Kernel.FindNode("e0")!.OpenFiles); // failed opens hold nothing
        t.Kernel.ModUnload("e");
    }

    [Fact]
    public void ACloneOpenMayChangeTheMinorButNotTheMajor()
    {
        using var t = new TestKernel();
        var driver = t.Load("cl", new ScriptedDriver("cl0") { Pages = 0 });
        var node = t.Kernel.FindNode("cl0")!;
        driver.CloneTo = Sunddi.MakeDevice(node.Dev.Major, 42);
        var file = t.Kernel.Open("cl0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(42u, file.Dev.Minor);
        Assert.Same(node, file.Node);
        file.Close();
        Assert.Equal(42u, Assert.Single(driver.Closes).Dev.Minor); // close(9E) gets the clone's dev

        driver.CloneTo = Sunddi.MakeDevice(node.Dev.Major + 1, 0);
        var e = Assert.Throws<ErrnoException>(() => t.Kernel.Open("cl0", OpenFlags.Read, Creds.Root64));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Equal(2, driver.Closes.Count); // what the driver opened was closed again
        Assert.Equal(0, node.OpenFiles);
    }

    [Fact]
    public void CloseRunsOncePerOpenWithTheOpenersCredentials()
    {
        using var t = new TestKernel();
        var driver = t.Load("c", new ScriptedDriver("c0") { Pages = 0 });
        var cred = Creds.User(7, 8);
        var a = t.Kernel.Open("c0", OpenFlags.Read, cred);
        var b = t.Kernel.Open("c0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        Assert.Equal(2, t.Kernel.FindNode("c0")!.OpenFiles);
        a.Close();
        Assert.Equal(FileState.Closed, a.State);
        var closed = Assert.Single(driver.Closes);
        Assert.Equal(OpenFlags.Read, closed.Flags);
        Assert.Equal(cred, closed.Cred);
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => a.Close()).Errno);
        a.Dispose(); // idempotent
        b.Dispose();
        Assert.Equal(2, driver.Closes.Count);
        Assert.Equal(0, t.Kernel.FindNode("c0")!.OpenFiles);
    }

    [Fact]
    public void CloseErrnoIsReportedButTheFileIsClosedAnyway()
    {
        using var t = new TestKernel();
        var driver = t.Load("c", new ScriptedDriver("c0") { Pages = 0 });
        driver.OnClose = (_, _, _) => Errno.EIO;
        var file = t.Kernel.Open("c0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(Errno.EIO, Assert.Throws<ErrnoException>(() => file.Close()).Errno);
        Assert.Equal(FileState.Closed, file.State);
        t.Kernel.ModUnload("c"); // nothing is held
    }

    [Fact]
    public void CloseWaitsForTheLastMapping()
    {
        using var t = new TestKernel();
        var driver = t.Load("w", new ScriptedDriver("w0"));
        var file = t.Kernel.Open("w0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);
        Assert.Equal(FileState.Open, file.State);
        var m1 = file.Map(0, SystemPage.Size, Prot.Read, MapFlags.Shared);
        var m2 = file.Map(SystemPage.Size, SystemPage.Size, Prot.Read, MapFlags.Shared);
        Assert.Equal(FileState.Mapped, file.State);
        m1.Dispose();
        Assert.Equal(FileState.Mapped, file.State);
        file.Close();
        Assert.Equal(FileState.Closing, file.State);
        Assert.Empty(driver.Closes);
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => file.Map(0, SystemPage.Size, Prot.Read, MapFlags.Shared)).Errno);
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => file.Ioctl(1, [], [], out _, out _)).Errno);
        m2.Unmap(0, SystemPage.Size);
        Assert.Equal(FileState.Closed, file.State);
        Assert.Single(driver.Closes);
    }

    [Fact]
    public void UnmappingTheLastMappingReturnsTheFileToOpen()
    {
        using var t = new TestKernel();
        t.Load("w", new ScriptedDriver("w0"));
        using var file = t.Kernel.Open("w0", OpenFlags.Read, Creds.Root64);
        var m = file.Map(0, SystemPage.Size, Prot.Read, MapFlags.Shared);
        Assert.Equal(FileState.Mapped, file.State);
        m.Dispose();
        Assert.Equal(FileState.Open, file.State);
        Assert.Empty(file.Mappings);
    }
}

/// <summary>ioctl(9E) and chpoll(9E) through an open file.</summary>
public sealed class IoctlPollTests
{
    [Fact]
    public void IoctlPassesInputOutputModeAndRval()
    {
        using var t = new TestKernel();
        t.Load("i", new ScriptedDriver("i0") { Pages = 0 });
        using var file = t.Kernel.Open("i0", OpenFlags.Read, Creds.Root32);
        byte[] output = new byte[16];
        file.Ioctl(1, "hello"u8, output, out int written, out int rval);
        Assert.Equal(5, written);
        Assert.Equal("hello"u8.ToArray(), output[..5]);
        Assert.Equal(5 | (int)DataModel.ILP32, rval); // the mode carried the caller's model (FMODELS)

        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => file.Ioctl(2, [], output, out _, out _)).Errno);
        Assert.Equal(Errno.EFAULT, Assert.Throws<ErrnoException>(() => file.Ioctl(3, [], output, out _, out _)).Errno);
        Assert.Equal(Errno.EFAULT, Assert.Throws<ErrnoException>(() => file.Ioctl(1, "too long for the room"u8, output, out _, out _)).Errno);
        Assert.Equal(Errno.ENOTTY, Assert.Throws<ErrnoException>(() => file.Ioctl(99, [], output, out _, out _)).Errno);
    }

    [Fact]
    public void MissingEntryPointsAreNodev()
    {
        using var t = new TestKernel();
        t.Load("p", new PlainDriver("p0"));
        using var file = t.Kernel.Open("p0", OpenFlags.Read, Creds.Root64);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => file.Ioctl(1, [], [], out _, out _)).Errno);
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => file.Poll(PollEvents.In, false, out _)).Errno);
        var map = Assert.Throws<ErrnoException>(() => file.Map(0, SystemPage.Size, Prot.Read, MapFlags.Shared));
        Assert.Equal(Errno.ENODEV, map.Errno); // spec_char_map: neither segmap nor devmap
    }

    [Fact]
    public void ChpollReturnsAPollheadThatWakesSubscribers()
    {
        using var t = new TestKernel();
        var driver = t.Load("q", new ScriptedDriver("q0") { Pages = 0 });
        using var file = t.Kernel.Open("q0", OpenFlags.Read, Creds.Root64);

        Assert.Equal(PollEvents.None, file.Poll(PollEvents.In, anyYet: false, out var head));
        Assert.Same(driver.PollHead, head);
        var woken = new List<PollEvents>();
        using (head!.Subscribe(woken.Add))
        {
            driver.Ready = PollEvents.In;
            driver.PollHead.Wakeup(PollEvents.In);
            Assert.Equal([PollEvents.In], woken);
            Assert.Equal(PollEvents.In, file.Poll(PollEvents.In | PollEvents.Out, anyYet: false, out var none));
            Assert.Null(none);
        }
        driver.PollHead.Wakeup(PollEvents.In);
        Assert.Single(woken); // unsubscribed
        Assert.Equal(0, driver.PollHead.SubscriberCount);
    }
}
