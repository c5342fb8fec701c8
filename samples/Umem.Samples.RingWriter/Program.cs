using System.CommandLine;
using System.Globalization;
using Umem.Client;
using Umem.Client.Sync;
using Umem.CommandLine;
using Umem.Platform;
using Umem.Samples;

// Umem.Samples.RingWriter NODE [--messages N] [--max-payload BYTES] [--wait]
// Opens the ring driver's node O_RDWR, maps its area read-write, (re)creates the ring in it and writes N
// checksummed messages, then marks the ring complete. With --wait it prints "ready" and starts writing when a
// line arrives on stdin (so readers can attach first). Prints "messages=N bytes=B fnv=H".
// Exit codes (docs/operating.md): 0 done, 1 failure, 2 usage (a stream longer than the ring included).
var node = CliOptions.PathArgument("node", "The ring driver's node, e.g. /run/umem/dev/ring0 (opened read-write).");
var messagesOption = CliOptions.Long("--messages", "How many messages to write (default 1000).", 0, uint.MaxValue);
var maxPayloadOption = CliOptions.Int("--max-payload", "The largest payload of a message in bytes (default 1000).", 1, RingMessage.MaxPayload);
var waitOption = new Option<bool>("--wait") { Description = "Create the ring, print 'ready', and write only when a line arrives on stdin (start the readers in between)." };
var root = new RootCommand("Writes checksummed messages into the ring driver's shared area for RingReader processes to check.")
{
    node, messagesOption, maxPayloadOption, waitOption,
};
root.Validators.Add(r =>
{
    if (!CliOptions.TryGetValue(r, messagesOption, out long? m) || !CliOptions.TryGetValue(r, maxPayloadOption, out int? p)) return;
    long messages = m ?? 1000;
    int maxPayload = p ?? 1000;
    // Readers map the ring read-only, so they cannot tell the writer how far they have read: a stream longer
    // than the ring would overwrite bytes a slow reader has not seen yet.
    if (RingMessage.StreamLength(messages, maxPayload, RingMessage.Capacity) > RingMessage.Capacity)
        r.AddError($"--messages {messages} with --max-payload {maxPayload}: more than the ring's {RingMessage.Capacity} bytes; readers are read-only and cannot hold the writer back");
});
root.SetAction(parse => Write(parse.GetValue(node)!, parse.GetValue(messagesOption) ?? 1000, parse.GetValue(maxPayloadOption) ?? 1000, parse.GetValue(waitOption)));
return await CommandLineApp.RunAsync(root, args, "Umem.Samples.RingWriter", "ring-writer").ConfigureAwait(false);

static int Write(string node, long messages, int maxPayload, bool wait)
{
    try
    {
        using var device = UmemDevice.Open(node, FileAccess.ReadWrite);
        using var mapping = device.Map(0, RingMessage.MapLength(device.PageSize), Prot.ReadWrite);
        using var writer = SharedRingWriter.Create(mapping.Address, mapping.Length, RingMessage.Capacity);
        Console.WriteLine($"ready capacity={writer.Capacity}");
        if (wait && Console.ReadLine() is null)
            return ExitCodes.Success;   // stdin closed: nothing to do

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
        return ExitCodes.Success;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
    {
        Console.Error.WriteLine($"ring-writer: {e.Message}");   // an ErrnoException (an IOException) names the errno
        return ExitCodes.Failure;
    }
}
