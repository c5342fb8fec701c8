using Umem.Host;
using Umem.Kernel;

namespace Umem.Tests.Host;

/// <summary>Pieces of peer identity that need no second process.</summary>
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
}
