using System.Globalization;
using Umem.Client;
using Umem.Client.Sync;
using Umem.Platform;
using Umem.Samples;

// Umem.Samples.RingReader NODE [--try-write]
// Opens the ring driver's node O_RDONLY and maps its area read-only. Normally it joins the ring the writer
// created, prints "ready position=P", reads until the writer completes the ring (sleeping on the ring's futex
// word while it is empty, never polling), checks every message (sequence, payload, checksum) and prints
// "messages=N bytes=B fnv=H errors=E sleeps=S". With --try-write it instead asks for write access two ways and
// prints what was refused: "write mprotect=ERRNO mmap=ERRNO" (the first is the OS's answer on the mapping).
// Exit codes: 0 done (or writes refused), 1 failure, 3 wrong data, 4 a write was allowed, 64 usage.
if (args.Length is < 1 or > 2 || args[0].StartsWith('-') || (args.Length == 2 && args[1] != "--try-write"))
{
    Console.Error.WriteLine("usage: Umem.Samples.RingReader NODE [--try-write]");
    return 64;
}

try
{
    using var device = UmemDevice.Open(args[0], FileAccess.Read);
    using var mapping = device.Map(0, RingMessage.MapLength(device.PageSize), Prot.Read);
    if (args.Length == 2)
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
    return check.Errors == 0 ? 0 : 3;
}
catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or SharedRingOverrunException or ErrnoException)
{
    Console.Error.WriteLine($"ring-reader: {e.Message}");
    return 1;
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
    return mprotect != Errno.None && mmap != Errno.None ? 0 : 4;
}

static string Name(Errno e) => e == Errno.None ? "allowed" : e.Name();
