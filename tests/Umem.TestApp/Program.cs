using Umem.TestApp;

// Usage (one line of output per answer: "ok ..." or "err ERRNO message"):
//   client                       commands on stdin (see ClientCommands)
//   host DIR [noevents] [pages=N] [sendtimeout-ms=MS]
//                                serves the test device (or one of N read-write pages, each its own segment) as
//                                DIR/test0 until stdin closes; a reply unread for MS is the client's drop
//   serve DIR                    the same through the generic host (stops on SIGTERM)
//   attack PATH OFFSET LEN PID [rw=OFFSET] [open=r] [hold]
//                                a hostile client speaking raw syscalls against a read-only grant (see Attack)
//   floodhost DIR [NAME=VALUE...] the test device with DeviceHostOptions limits set (see FloodHost)
//   flood KIND PATH ARGS...      floods the host until a limit refuses it, then holds (see Flood)
//   grant PATH OFFSET LEN        a raw read-write MMAP: how far each fd received reaches (see Grant)
//   fdserver PATH [SPIN_US]      answers each message with 16 bytes and a memfd (the benchmarks' floor); with
//                                SPIN_US, polls that long without sleeping before each blocking receive
return args.Length == 0 ? Usage() : args[0] switch
{
    "client" => ClientCommands.Run(Console.In, Console.Out),
    "host" when args.Length >= 2 => TestHostCommand.Run(args[1], args.Contains("noevents"), Option(args, "pages=") ?? 0,
        Option(args, "sendtimeout-ms=") is { } ms ? TimeSpan.FromMilliseconds(ms) : null),
    "serve" when args.Length >= 2 => await TestHostCommand.ServeAsync(args[1]).ConfigureAwait(false),
    "fdserver" when args.Length == 2 => FdServer.Run(args[1], TimeSpan.Zero),
    "fdserver" when args.Length == 3 => FdServer.Run(args[1], TimeSpan.FromMicroseconds(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture))),
    "floodhost" when args.Length >= 2 => FloodHost.Run(args[1], args[2..]),
    "flood" when args.Length >= 4 => Flood.Run(args[1], args[2], args[3..]),
    "grant" when args.Length == 4 => Grant.Run(args[1], long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)),
    "attack" when args.Length >= 5 => Attack.Run(args[1], long.Parse(args[2]), long.Parse(args[3]), int.Parse(args[4]), args[5..]),
    _ => Usage(),
};

// A NAME=INTEGER argument, or null.
static int? Option(string[] args, string prefix) =>
    args.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal)) is { } a
        ? int.Parse(a[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture)
        : null;

static int Usage()
{
    Console.Error.WriteLine("usage: Umem.TestApp client | host DIR [noevents] [pages=N] [sendtimeout-ms=MS] | serve DIR | attack PATH OFFSET LEN HOSTPID [rw=OFFSET] [open=r] [hold]");
    return 2;
}
