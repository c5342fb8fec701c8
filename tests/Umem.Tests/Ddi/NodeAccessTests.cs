using Umem.Host;
using Umem.Kernel;
using Umem.Kernel.Ddi;

namespace Umem.Tests.Ddi;

/// <summary>open(2)'s permission check on a minor node (the kernel's, the only one) and the socket mode the host derives from it.</summary>
public sealed class NodeAccessTests
{
    private static Cred As(uint uid, uint gid, params uint[] groups) => new(1, uid, gid, DataModel.LP64) { Groups = groups };

    [Fact]
    public void NodeModesAreCheckedAsOpenChecksThem()
    {
        var node = new NodeAccess(1000, 100, (UnixFileMode)Convert.ToInt32("640", 8));
        var rw = OpenFlags.Read | OpenFlags.Write;
        Assert.True(node.Allows(As(0, 0), rw)); // root
        Assert.True(node.Allows(As(1000, 5), rw)); // owner rw
        Assert.True(node.Allows(As(2000, 100), OpenFlags.Read)); // group r
        Assert.False(node.Allows(As(2000, 100), OpenFlags.Write));
        Assert.True(node.Allows(As(2000, 7, 100), OpenFlags.Read)); // supplementary group (groupmember(9F))
        Assert.False(node.Allows(As(2000, 7, 100), OpenFlags.Write));
        Assert.False(node.Allows(As(2000, 7, 8), OpenFlags.Read)); // other: nothing
    }

    [Fact]
    public void CredsCompareTheirGroupsAsSets()
    {
        Assert.Equal(As(5, 5, 3, 1, 2), As(5, 5, 1, 2, 3));
        Assert.NotEqual(As(5, 5, 1), As(5, 5, 2));
        Assert.Equal([1u, 2, 3], As(5, 5, 3, 1, 2).Groups);
        Assert.True(As(5, 5, 9).IsGroupMember(9));
        Assert.True(As(5, 5).IsGroupMember(5));
        Assert.False(As(5, 5, 9).IsGroupMember(8));
    }

    [Fact]
    public void TheSocketLetsConnectEveryClassTheNodeLetsOpen()
    {
        Assert.Equal((UnixFileMode)Convert.ToInt32("660", 8), NodeListener.SocketMode((UnixFileMode)Convert.ToInt32("640", 8)));
        Assert.Equal((UnixFileMode)Convert.ToInt32("666", 8), NodeListener.SocketMode((UnixFileMode)Convert.ToInt32("444", 8)));
    }

    [Fact]
    public void TheDeviceDirectoryMustBeAbsolute()
    {
        Assert.Throws<ArgumentException>(() => UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = "relative" } }));
    }
}
