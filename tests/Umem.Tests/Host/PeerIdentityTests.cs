using Umem.Host;
using Umem.Kernel;
using Umem.Platform;

namespace Umem.Tests.Host;

/// <summary>Pieces of peer identity that need no second process.</summary>
public sealed class PeerIdentityTests
{
    [Theory]
    [InlineData("qemu-i386", DataModel.ILP32)]
    [InlineData("qemu-i386-static", DataModel.ILP32)]
    [InlineData("qemu-arm", DataModel.ILP32)]
    [InlineData("qemu-mipsn32el", DataModel.ILP32)]
    [InlineData("qemu-x86_64", DataModel.LP64)]
    [InlineData("qemu-aarch64-static", DataModel.LP64)]
    [InlineData("qemu-riscv64", DataModel.LP64)]
    public void AnEmulatorsTargetDecidesItsGuestsModel(string name, DataModel model) =>
        Assert.Equal(model, PeerIdentity.EmulatorModel(name));

    [Theory]
    [InlineData("qemu-x")]
    [InlineData("qemu-")]
    [InlineData("qemu-i386-static-static")]
    [InlineData("xqemu-i386")]
    [InlineData("qemu-system-i386")]
    [InlineData("bash")]
    public void OtherNamesAreNoEmulator(string name) => Assert.Null(PeerIdentity.EmulatorModel(name));

    [Theory]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46, 1 }, DataModel.ILP32)]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46, 2, 1, 1 }, DataModel.LP64)]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46, 3 }, null)]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46 }, null)]
    [InlineData(new byte[] { 0x23, 0x21, 0x2F, 0x62, 1 }, null)] // "#!/b"
    public void TheElfClassByte(byte[] ident, DataModel? model) => Assert.Equal(model, PeerIdentity.ElfClassModel(ident));

    [Fact]
    public void SupplementaryGroupsFromStatus()
    {
        Assert.Equal([4u, 24u, 1000u], PeerIdentity.ParseGroups("Name:\tx\nUid:\t0\t0\t0\t0\nGroups:\t4 24 1000 \nNgid:\t0\n"));
        Assert.Empty(PeerIdentity.ParseGroups("Groups:\t\n"));
        Assert.Empty(PeerIdentity.ParseGroups("Name:\tx\n"));
        Assert.Throws<FormatException>(() => PeerIdentity.ParseGroups("Groups:\tx\n"));
    }

    [Fact]
    public void LockedMemoryLimitFromLimits()
    {
        const string Head = "Limit                     Soft Limit           Hard Limit           Units     \n";
        Assert.Equal(8388608L, PeerIdentity.ParseLockedMemoryLimit(Head + "Max locked memory         8388608              8388608              bytes     \n"));
        Assert.Null(PeerIdentity.ParseLockedMemoryLimit(Head + "Max locked memory         unlimited            unlimited            bytes     \n"));
        Assert.Throws<FormatException>(() => PeerIdentity.ParseLockedMemoryLimit(Head));
        // The running kernel's own format parses (as a number or unlimited).
        _ = PeerIdentity.ParseLockedMemoryLimit(File.ReadAllText("/proc/self/limits"));
    }

    [Fact]
    public void ThisProcessIs64Bit()
    {
        using (var self = ProcessDirectory.Open(Environment.ProcessId))
        {
            Assert.Equal(DataModel.LP64, PeerIdentity.DetectDataModel(self, out var problem));
            Assert.Null(problem);
        }
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => ProcessDirectory.Open(int.MaxValue)).Errno);
    }
}
