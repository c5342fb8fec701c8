using Umem.Host;
using Umem.Kernel.Ddi;
using MinorNode = Umem.Host.MinorNode;

namespace Umem.Tests.Host;

/// <summary>Pieces of peer identity and node permissions that need no second process.</summary>
public sealed class PeerIdentityTests
{
    [Theory]
    [InlineData("qemu-i386 ./prog", "./prog")]
    [InlineData("qemu-i386 -L / ./prog arg", "./prog")]
    [InlineData("qemu-i386-static -cpu max -L /usr/i686 -E A=B -U C -0 name /opt/p -x", "/opt/p")]
    [InlineData("qemu-i386 -strace -singlestep --L / prog", "prog")]
    [InlineData("qemu-i386 -d in_asm -D /tmp/log -- -weird", "-weird")]
    [InlineData("/usr/libexec/qemu-binfmt/i386-binfmt-P /usr/bin/prog prog", "/usr/bin/prog")]
    public void TheProgramAnEmulatorRuns(string cmdline, string program) =>
        Assert.Equal(program, PeerIdentity.FindEmulatedProgram(cmdline.Split(' ')));

    [Theory]
    [InlineData("qemu-i386")]
    [InlineData("qemu-i386 -L /")]
    [InlineData("qemu-i386 -strace")]
    public void NoProgramIsNull(string cmdline) => Assert.Null(PeerIdentity.FindEmulatedProgram(cmdline.Split(' ')));

    [Fact]
    public void ThisProcessIs64Bit()
    {
        Assert.Equal(DataModel.LP64, PeerIdentity.DetectDataModel(Environment.ProcessId, out var problem));
        Assert.Null(problem);
        Assert.Null(PeerIdentity.DetectDataModel(int.MaxValue, out problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void NodeModesAreCheckedAsOpenChecksThem()
    {
        var node = new MinorNode("n", 1000, 100, (UnixFileMode)Convert.ToInt32("640", 8));
        Assert.True(node.Allows(0, 0, [], OpenMode.ReadWrite)); // root
        Assert.True(node.Allows(1000, 5, [], OpenMode.ReadWrite)); // owner rw
        Assert.True(node.Allows(2000, 100, [], OpenMode.ReadOnly)); // group r
        Assert.False(node.Allows(2000, 100, [], OpenMode.WriteOnly));
        Assert.True(node.Allows(2000, 7, [100], OpenMode.ReadOnly)); // supplementary group
        Assert.False(node.Allows(2000, 7, [8], OpenMode.ReadOnly)); // other: nothing
        Assert.Equal((UnixFileMode)Convert.ToInt32("660", 8), node.SocketMode);
        Assert.Equal((UnixFileMode)Convert.ToInt32("666", 8), new MinorNode("r", 0, 0, (UnixFileMode)Convert.ToInt32("444", 8)).SocketMode);
        using var service = new Umem.TestApp.TestDeviceService([3]);
        Assert.Throws<ArgumentException>(() => new DeviceHost(service, new DeviceHostOptions { DeviceDirectory = "relative" }));
    }
}
