using System.Globalization;
using Umem.Client;
using Umem.Client.Sync;
using Umem.Platform;
using Umem.Samples;

// Umem.Samples.RingWriter NODE [--messages N] [--max-payload BYTES] [--wait]
// Opens the ring driver's node O_RDWR, maps its area read-write, (re)creates the ring in it and writes N
// checksummed messages, then marks the ring complete. With --wait it prints "ready" and starts writing when a
// line arrives on stdin (so readers can attach first). Prints "messages=N bytes=B fnv=H".
// Exit codes: 0 done, 1 failure, 64 usage.
if (args.Length == 0 || args[0].StartsWith('-'))
    return Usage();
string node = args[0];
long messages = 1000;
int maxPayload = 1000;
bool wait = false;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--messages" when i + 1 < args.Length && long.TryParse(args[i + 1], CultureInfo.InvariantCulture, out messages) && messages >= 0:
        case "--max-payload" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out maxPayload) && maxPayload > 0:
            i++;
            break;
        case "--wait":
            wait = true;
            break;
        default:
            return Usage();
    }
}

long total = 0;
for (long s = 0; s < messages; s++) total += RingMessage.Overhead + RingMessage.PayloadLength(s, maxPayload);
if (total > RingMessage.Capacity)
{
    // Readers map the ring read-only, so they cannot tell the writer how far they have read: a stream longer
    // than the ring would overwrite bytes a slow reader has not seen yet.
    Console.Error.WriteLine($"ring-writer: {messages} messages of up to {maxPayload} bytes need {total} bytes, more than the ring's {RingMessage.Capacity}; readers are read-only and cannot hold the writer back");
    return 64;
}

try
{
    using var device = UmemDevice.Open(node, FileAccess.ReadWrite);
    using var mapping = device.Map(0, RingMessage.MapLength(device.PageSize), Prot.ReadWrite);
    using var writer = SharedRingWriter.Create(mapping.Address, mapping.Length, RingMessage.Capacity);
    Console.WriteLine($"ready capacity={writer.Capacity}");
    if (wait && Console.ReadLine() is null)
        return 0;   // stdin closed: nothing to do

    var buffer = new byte[RingMessage.Overhead + maxPayload];
    ulong fnv = RingMessage.Fnv64Basis;
    long bytes = 0;
    for (long seq = 0; seq < messages; seq++)
    {
        int length = RingMessage.Encode(seq, RingMessage.PayloadLength(seq, maxPayload), buffer);
        writer.Write(buffer.AsSpan(0, length));   // wakes sleeping readers through the ring's futex word
        fnv = RingMessage.Fnv64(fnv, buffer.AsSpan(0, length));
        bytes += length;
    }
    writer.Complete();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messages={messages} bytes={bytes} fnv={fnv:x16}"));
    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or Umem.Platform.ErrnoException)
{
    Console.Error.WriteLine($"ring-writer: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Umem.Samples.RingWriter NODE [--messages N] [--max-payload BYTES] [--wait]");
    return 64;
}
