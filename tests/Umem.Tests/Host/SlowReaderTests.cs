using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Umem.Client;
using Umem.Platform;
using Umem.Protocol;
using Umem.TestDrivers;

namespace Umem.Tests.Host;

/// <summary>Clients that never read their replies: only they wait, no thread of the host waits for them, and they are dropped.</summary>
public sealed class SlowReaderTests(ITestOutputHelper output)
{
    private static readonly int Page = SystemPage.Size;

    [Fact]
    public void ClientsThatDoNotReadHoldNoThreadOfTheHostAndAreDropped()
    {
        string dir = TestHost.NewDirectory();
        try
        {
            using var host = ChildProcess.StartTestApp(null, "host", dir, "noevents", "sendtimeout-ms=4000");
            string path = host.ReadUntil("ready").Split(' ')[2];
            using var bystander = UmemDevice.Open(path);
            var peek = new byte[12];
            BinaryPrimitives.WriteInt32LittleEndian(peek.AsSpan(8), 4 * Page); // 16 KiB per reply
            var reply = new byte[4 * Page];
            for (int i = 0; i < 50; i++) bystander.Ioctl(TestDeviceDriver.IoctlPeek, peek, reply);
            int threadsBefore = Threads(host.Pid);
            int fdsBefore = Fds(host.Pid);

            // Each slow client asks for 16 KiB replies 48 times (768 KiB, more than a socket queue holds) and reads none.
            const int Slow = 64;
            var slow = new List<RawClient>();
            try
            {
                for (int i = 0; i < Slow; i++)
                {
                    var c = RawClient.Ready(path, out ulong h);
                    slow.Add(c);
                    for (int r = 0; r < 48; r++)
                        c.SendOnly(Bytes(b => new IoctlRequest(h, TestDeviceDriver.IoctlPeek, (uint)(4 * Page), 12).Write(b, (uint)(100 + r), peek)));
                }
                // While they are stalled the bystander is served, and the host did not grow a thread per stalled
                // client (a blocking send would hold one each, and the pool would add threads to make up for them).
                var watch = Stopwatch.StartNew();
                for (int i = 0; i < 200; i++) bystander.Ioctl(TestDeviceDriver.IoctlPeek, peek, reply);
                double bystanderMs = watch.Elapsed.TotalMilliseconds;
                int threadsDuring = Threads(host.Pid);
                output.WriteLine($"bystander: 200 IOCTLs of 16 KiB in {bystanderMs:F0} ms with {Slow} stalled clients; host threads {threadsBefore} before, {threadsDuring} during");
                Assert.True(threadsDuring < threadsBefore + 8, $"the host went from {threadsBefore} to {threadsDuring} threads with {Slow} stalled clients");
                // They are dropped once a reply has waited SendTimeout (nothing here reads: reading would unblock them).
                Assert.True(Fds(host.Pid) >= fdsBefore + Slow, "the stalled clients are still connected");
                Eventually.WaitUntil(() => Fds(host.Pid) <= fdsBefore, "the stalled clients to be dropped");
                output.WriteLine($"all dropped {watch.Elapsed.TotalSeconds:F1} s after they stalled (SendTimeout 4 s)");
            }
            finally
            {
                foreach (var c in slow) c.Dispose();
            }
            bystander.Ioctl(TestDeviceDriver.IoctlPeek, peek, reply);
            host.CloseInput();
            Assert.Equal(0, host.WaitForExit());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Threads(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal))[8..].Trim(), CultureInfo.InvariantCulture);

    private static int Fds(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private static byte[] Bytes(Func<byte[], int> write)
    {
        var buffer = new byte[Wire.MaxMessage];
        return buffer.AsSpan(0, write(buffer)).ToArray();
    }
}
