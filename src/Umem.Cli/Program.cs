using System.CommandLine;
using Umem.Cli;
using Umem.Cli.Commands;
using Umem.Cli.Demo;

var root = new RootCommand("Umem: driver memory shared with applications in other processes, as the Solaris DDI does it.")
{
    DemoCommand.Create(),
    HostCommand.Create(),
    GreetCommand.Create(),
    PrctlCommand.Create(),
    AllocCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // A usage mistake: what is wrong, one line each, and where help is; exit 2 (ExitCodes).
    foreach (var error in parse.Errors) Console.Error.WriteLine($"umem: {error.Message}");
    Console.Error.WriteLine($"umem: see '{string.Join(' ', ["umem", .. CommandPath(parse.CommandResult)])} --help'");
    return ExitCodes.Usage;
}
try
{
    // Ctrl+C and SIGTERM cancel the command's token; a command gets this long to stop its children and clean up.
    return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) }).ConfigureAwait(false);
}
catch (Exception e) when (Environment.GetEnvironmentVariable("UMEM_DEBUG") is null)
{
    // Not one of the mistakes a command explains itself: still one line; UMEM_DEBUG=1 shows the stack.
    Console.Error.WriteLine($"umem: {e.GetType().Name}: {e.Message} (UMEM_DEBUG=1 shows where)");
    return ExitCodes.Failure;
}

static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
{
    var names = new Stack<string>();
    for (var r = result; r?.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Push(r.Command.Name);
    return names;
}
