using System.CommandLine;
using System.Globalization;
using Umem.Client;
using Umem.Client.Sync;
using Umem.CommandLine;
using Umem.Platform;
using Umem.Samples;

// Umem.Samples.RingReader NODE [--try-write]
// Opens the ring driver's node O_RDONLY and maps its area read-only. Normally it joins the ring the writer
// created, prints "ready position=P", reads until the writer completes the ring (sleeping on the ring's futex
// word while it is empty, never polling), checks every message (sequence, payload, checksum) and prints
// "messages=N bytes=B fnv=H errors=E sleeps=S". With --try-write it instead asks for write access two ways and
// prints what was refused: "write mprotect=ERRNO mmap=ERRNO" (the first is the OS's answer on the mapping).
// Exit codes (docs/operating.md): 0 done (or writes refused), 1 failure (wrong data, a write allowed), 2 usage.
var node = CliOptions.PathArgument("node", "The ring driver's node, e.g. /run/umem/dev/ring0 (opened read-only).");
var tryWriteOption = new Option<bool>("--try-write") { Description = "Ask for write access (mprotect, a writable map) and print what was refused, instead of reading." };
var root = new RootCommand("Reads and checks the ring writer's messages through a read-only mapping of the ring driver's area.")
{
    node, tryWriteOption,
};
root.SetAction(parse => Read(parse.GetValue(node)!, parse.GetValue(tryWriteOption)));
return await CommandLineApp.RunAsync(root, args, "Umem.Samples.RingReader", "ring-reader").ConfigureAwait(false);

static int Read(string node, bool tryWrite)
{
    try
    {
        using var device = UmemDevice.Open(node, FileAccess.Read);
        using var mapping = device.Map(0, RingMessage.MapLength(device.PageSize), Prot.Read);
        if (tryWrite)
            return TryWrite(device, mapping);

        using var reader = SharedRingReader.Open(mapping.Address, mapping.Length);
        Console.WriteLine($"ready position={reader.Position}");
        var check = new MessageChecker();
        var chunk = new byte[64 << 10];
        int read;
        while ((read = reader.Read(chunk)) > 0)   // 0: the writer completed the ring and everything is read
            check.Add(chunk.AsSpan(0, read));
        check.Finish();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"messages={check.Messages} bytes={check.Bytes} fnv={check.Fnv:x16} errors={check.Errors} sleeps={reader.Sleeps}"));
        if (check.FirstError is { } why) Console.Error.WriteLine($"ring-reader: {why}");
        return check.Errors == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or SharedRingOverrunException)
    {
        Console.Error.WriteLine($"ring-reader: {e.Message}");   // an ErrnoException (an IOException) names the errno
        return ExitCodes.Failure;
    }
}

static int TryWrite(UmemDevice device, UmemMapping mapping)
{
    // The OS's verdict: the memfd behind a read-only grant is an O_RDONLY reopen, so PROT_WRITE is EACCES.
    Errno mprotect = mapping.TryProtect(Prot.ReadWrite);
    // The host's verdict (smmap_common): a MAP_SHARED PROT_WRITE mapping of a file opened O_RDONLY is EACCES.
    Errno mmap;
    try
    {
        using var writable = device.Map(0, mapping.Length, Prot.ReadWrite);
        mmap = Errno.None;
    }
    catch (ErrnoException e)
    {
        mmap = e.Errno;
    }
    Console.WriteLine($"write mprotect={Name(mprotect)} mmap={Name(mmap)}");
    if (mprotect != Errno.None && mmap != Errno.None) return ExitCodes.Success;
    Console.Error.WriteLine("ring-reader: a read-only grant was given write access");
    return ExitCodes.Failure;
}

static string Name(Errno e) => e == Errno.None ? "allowed" : e.Name();
