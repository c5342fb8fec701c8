using System.Buffers.Binary;
using System.Globalization;
using Umem.Client;
using Umem.Platform;

// Umem.Samples.LockDemo NODE [--length BYTES] [--locks N] [--longterm] [--hold]
// Registers a buffer with the lockmem driver's node, asks the driver to lock all of it N times (ddi_umem_lock;
// overlapping locks are each charged in full), prints the project's locked memory, unlocks, prints it again.
// With --hold it stops after locking, prints "holding", and unlocks only when a line (or EOF) arrives on stdin.
// Every report is "stage=S usage=U limit=L". Exit codes: 0 done, 1 failure, 64 usage.
const uint LockCmd = ('L' << 8) | 1;     // LockmemIoctl.Lock in drivers/Umem.Drivers.Lockmem
const uint UnlockCmd = ('L' << 8) | 2;   // LockmemIoctl.Unlock
const uint UsageCmd = ('L' << 8) | 3;    // LockmemIoctl.Usage
const uint ReadWrite = 0x3;              // DDI_UMEMLOCK_READ | DDI_UMEMLOCK_WRITE
const uint LongTerm = 0x4;               // DDI_UMEMLOCK_LONGTERM

if (args.Length == 0 || args[0].StartsWith('-'))
    return Usage();
long length = 1 << 20;
int locks = 1;
bool longTerm = false, hold = false;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--length" when i + 1 < args.Length && long.TryParse(args[i + 1], CultureInfo.InvariantCulture, out length) && length > 0:
        case "--locks" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out locks) && locks > 0:
            i++;
            break;
        case "--longterm":
            longTerm = true;
            break;
        case "--hold":
            hold = true;
            break;
        default:
            return Usage();
    }
}

try
{
    using var device = UmemDevice.Open(args[0], FileAccess.ReadWrite);
    using var buffer = device.RegisterBuffer(length);
    buffer.Span.Fill(0x5a);   // the application's own data, which the "device" may now access
    Report(device, "registered");

    var indexes = new List<int>();
    Span<byte> input = stackalloc byte[20];
    BinaryPrimitives.WriteUInt64LittleEndian(input, (ulong)buffer.Address);
    BinaryPrimitives.WriteUInt64LittleEndian(input[8..], (ulong)buffer.Length);
    BinaryPrimitives.WriteUInt32LittleEndian(input[16..], ReadWrite | (longTerm ? LongTerm : 0));
    for (int i = 0; i < locks; i++)
        indexes.Add(device.Ioctl(LockCmd, input, []).Rval);
    Report(device, "locked");

    if (hold)
    {
        Console.WriteLine("holding");
        _ = Console.ReadLine();
    }

    Span<byte> index = stackalloc byte[4];
    foreach (int i in indexes)
    {
        BinaryPrimitives.WriteInt32LittleEndian(index, i);
        device.Ioctl(UnlockCmd, index, []);
    }
    Report(device, "unlocked");
    return 0;
}
catch (ErrnoException e)
{
    Console.Error.WriteLine($"lock-demo: {e.Message}");
    return 1;
}

static void Report(UmemDevice device, string stage)
{
    Span<byte> output = stackalloc byte[16];
    device.Ioctl(UsageCmd, [], output);
    ulong usage = BinaryPrimitives.ReadUInt64LittleEndian(output);
    ulong limit = BinaryPrimitives.ReadUInt64LittleEndian(output[8..]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stage={stage} usage={usage} limit={limit}"));
}

static int Usage()
{
    Console.Error.WriteLine("usage: Umem.Samples.LockDemo NODE [--length BYTES] [--locks N] [--longterm] [--hold]");
    return 64;
}
