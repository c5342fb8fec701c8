using Umem.Host;

namespace Umem.Tests.Host;

/// <summary>Host settings by name (<c>umem host --set NAME=VALUE</c>, the flood host's arguments).</summary>
public sealed class DeviceHostOptionsTests
{
    [Fact]
    public void EveryLimitAndTimeoutIsSetByItsName()
    {
        var o = new DeviceHostOptions();
        o.Set("MaxOpensPerUid", "7");
        o.Set("MaxMappingsPerUid", "8");
        o.Set("MaxRegisteredBytesPerUid", "17179869184");
        o.Set("FdReserve", "100");
        o.Set("IdleTimeout", "1500");
        o.Set("MaxConnectionsPerUid", "3");
        Assert.Equal((7, 8, 16L << 30, 100, TimeSpan.FromMilliseconds(1500), 3),
            (o.MaxOpensPerUid, o.MaxMappingsPerUid, o.MaxRegisteredBytesPerUid, o.FdReserve, o.IdleTimeout, o.MaxConnectionsPerUid));
        o.Validate();
    }

    [Theory]
    [InlineData("NoSuchLimit", "1", "NoSuchLimit")]
    [InlineData("MaxOpensPerUid", "-1", "MaxOpensPerUid")]
    [InlineData("MaxOpensPerUid", "4294967296", "MaxOpensPerUid")]
    [InlineData("IdleTimeout", "1s", "IdleTimeout")]
    public void ANameOrValueThatIsNotOneIsRefusedNamingIt(string name, string value, string named)
    {
        var e = Assert.Throws<ArgumentException>(() => new DeviceHostOptions().Set(name, value));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
