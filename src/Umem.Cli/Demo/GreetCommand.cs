using System.CommandLine;
using Umem.Client;
using Umem.Platform;

namespace Umem.Cli.Demo;

/// <summary>
/// <c>umem greet DEVICE NAME EXPECT TIMEOUT_MS</c>: the C# twin of clients/c/examples/umem_greet.c — an application
/// that maps the first page of a device, posts its greeting on the shared board, and reports what it saw.
/// </summary>
internal static class GreetCommand
{
    internal static Command Create()
    {
        var device = new Argument<string>("device") { Description = "The device node (a socket in the device directory)." };
        var name = new Argument<string>("name") { Description = "Who is greeting." };
        var expect = CliOptions.IntArgument("expect", "How many greetings (own included) to wait for, 1-64.", 1, GreetingBoard.SlotCount);
        var timeout = CliOptions.IntArgument("timeout-ms", "How long to wait for them.", 0, int.MaxValue);
        var command = new Command("greet", "An application: map a device's first page and greet the others on it (as umem_greet.c).")
        {
            device, name, expect, timeout,
        };
        command.SetAction(parse => Run(parse.GetValue(device)!, parse.GetValue(name)!, parse.GetValue(expect), parse.GetValue(timeout)));
        return command;
    }

    private static int Run(string path, string name, int expect, int timeoutMs)
    {
        if (expect is < 1 or > GreetingBoard.SlotCount || timeoutMs < 0)
        {
            Console.Error.WriteLine($"umem greet: expect must be 1-{GreetingBoard.SlotCount} and timeout-ms not negative");
            return ExitCodes.Usage;
        }
        try
        {
            using var dev = UmemDevice.Open(path);
            using var map = dev.Map(0, dev.PageSize);
            var board = new GreetingBoard(map.Address);
            int pid = Environment.ProcessId;
            int bits = IntPtr.Size * 8;
            int slot = board.Post(pid, bits, $"hello from {name}");
            if (slot < 0)
            {
                Console.Error.WriteLine("umem greet: no free slot: ENOSPC");
                return ExitCodes.Failure;
            }
            var deadline = Environment.TickCount64 + timeoutMs;
            List<Greeting> seen;
            var spin = new SpinWait();
            while ((seen = board.ReadAll()).Count < expect && Environment.TickCount64 < deadline)
            {
                if (spin.NextSpinWillYield) Thread.Sleep(1);
                spin.SpinOnce();
            }
            foreach (var g in seen)
                Console.WriteLine($"seen pid={g.Pid} bits={g.ModelBits} greeting={g.Text}");
            Console.WriteLine($"self pid={pid} bits={bits} slot={slot} addr=0x{map.Address:x}");
            Console.Out.Flush();
            if (Environment.GetEnvironmentVariable("UMEM_GREET_HOLD") is not null) Console.ReadLine();
            return seen.Count >= expect ? ExitCodes.Success : ExitCodes.Failure;
        }
        catch (ErrnoException e)
        {
            Console.Error.WriteLine($"umem greet: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
