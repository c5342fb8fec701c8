using Umem.Host;

namespace Umem.Tests.Host;

/// <summary>DeviceHostOptions.Linger and LingerSpin: every combination serves requests; bad values are named.</summary>
public sealed class LingerTests
{
    [Theory]
    [InlineData(0, 50)]     // no linger: the spin is part of it, so none either
    [InlineData(250, 0)]    // sleep at once
    [InlineData(250, 50)]   // the default
    [InlineData(100, 500)]  // a spin longer than the linger is cut to it
    public async Task EveryLingerServesBackToBackAndSpacedRequests(int lingerMicroseconds, int spinMicroseconds)
    {
        var options = new DeviceHostOptions
        {
            Linger = TimeSpan.FromMicroseconds(lingerMicroseconds),
            LingerSpin = TimeSpan.FromMicroseconds(spinMicroseconds),
        };
        await using var host = TestHost.Start(options: options);
        using var c = RawClient.Ready(host.Path, out ulong h);
        for (int i = 0; i < 20; i++) Assert.True(c.StillServed(h)); // within the linger
        // The sleep is the thing under test, not a synchronisation: 5 ms outlasts every linger here (at most 250 µs),
        // so the next request finds the connection back on the asynchronous wait.
        Thread.Sleep(5);
        Assert.True(c.StillServed(h));
    }

    [Theory]
    [InlineData(-1, nameof(DeviceHostOptions.LingerSpin))]
    [InlineData(100_001, nameof(DeviceHostOptions.LingerSpin))]
    public void AnOutOfRangeSpinIsRefusedByName(int spinMicroseconds, string name)
    {
        var options = new DeviceHostOptions { LingerSpin = TimeSpan.FromMicroseconds(spinMicroseconds) };
        options.DeviceDirectory = Path.Combine(TestHost.NewDirectory(), "dev");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => UmemSystem.Start(new UmemSystemOptions { Host = options }));
        Assert.Equal(name, e.ParamName);
    }
}
