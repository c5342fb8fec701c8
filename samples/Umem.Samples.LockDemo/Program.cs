using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using Umem.Client;
using Umem.CommandLine;

// Umem.Samples.LockDemo NODE [--length BYTES] [--locks N] [--longterm] [--hold]
// Registers a buffer with the lockmem driver's node, asks the driver to lock all of it N times (ddi_umem_lock;
// overlapping locks are each charged in full), prints the project's locked memory, unlocks, prints it again.
// With --hold it stops after locking, prints "holding", and unlocks only when a line (or EOF) arrives on stdin.
// Every report is "stage=S usage=U limit=L". Exit codes (docs/operating.md): 0 done, 1 failure, 2 usage.
const uint LockCmd = ('L' << 8) | 1;     // LockmemIoctl.Lock in drivers/Umem.Drivers.Lockmem
const uint UnlockCmd = ('L' << 8) | 2;   // LockmemIoctl.Unlock
const uint UsageCmd = ('L' << 8) | 3;    // LockmemIoctl.Usage
const uint ReadWrite = 0x3;              // DDI_UMEMLOCK_READ | DDI_UMEMLOCK_WRITE
const uint LongTerm = 0x4;               // DDI_UMEMLOCK_LONGTERM

var node = CliOptions.PathArgument("node", "The lockmem driver's node, e.g. /run/umem/dev/lockmem0 (opened read-write).");
var lengthOption = CliOptions.Long("--length", "Bytes of the buffer to register and lock, rounded up to whole pages (default 1048576).", 1, long.MaxValue);
var locksOption = CliOptions.Int("--locks", "How many times the driver locks the whole buffer (default 1).", 1, 1 << 20);
var longTermOption = new Option<bool>("--longterm") { Description = "Lock with DDI_UMEMLOCK_LONGTERM (umem_lockmemory) rather than ddi_umem_lock." };
var holdOption = new Option<bool>("--hold") { Description = "After locking, print 'holding' and unlock only when a line (or EOF) arrives on stdin." };
var root = new RootCommand("Registers a buffer, has the lockmem driver lock it (ddi_umem_lock(9F)) and prints the project's locked memory.")
{
    node, lengthOption, locksOption, longTermOption, holdOption,
};
root.SetAction(parse => Demo(parse.GetValue(node)!, parse.GetValue(lengthOption) ?? 1 << 20, parse.GetValue(locksOption) ?? 1,
    parse.GetValue(longTermOption), parse.GetValue(holdOption)));
return await CommandLineApp.RunAsync(root, args, "Umem.Samples.LockDemo", "lock-demo").ConfigureAwait(false);

static int Demo(string node, long length, int locks, bool longTerm, bool hold)
{
    try
    {
        using var device = UmemDevice.Open(node, FileAccess.ReadWrite);
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
        return ExitCodes.Success;
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"lock-demo: {e.Message}");   // an ErrnoException (an IOException) names the errno
        return ExitCodes.Failure;
    }
}

static void Report(UmemDevice device, string stage)
{
    Span<byte> output = stackalloc byte[16];
    device.Ioctl(UsageCmd, [], output);
    ulong usage = BinaryPrimitives.ReadUInt64LittleEndian(output);
    ulong limit = BinaryPrimitives.ReadUInt64LittleEndian(output[8..]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stage={stage} usage={usage} limit={limit}"));
}
