using System.CommandLine;
using Umem.Cli.Commands;
using Umem.Cli.Commands.Admin;
using Umem.Cli.Demo;

var root = new RootCommand("Umem: driver memory shared with applications in other processes, as the Solaris DDI does it.")
{
    DemoCommand.Create(),
    HostCommand.Create(),
    GreetCommand.Create(),
    PrctlCommand.Create(),
    ModCommands.ModLoad(),
    ModCommands.ModUnload(),
    ModCommands.ModInfo(),
    PmapCommand.Create(),
    StatCommand.Create(),
    AllocCommand.Create(),
};
// Parse errors: one line each and where help is, exit 2; failures: one line, exit 1 (src/Shared/CommandLineApp.cs).
// Ctrl+C and SIGTERM cancel the command's token; a command gets 20 s to stop its children and clean up.
return await CommandLineApp.RunAsync(root, args, "umem", "umem", TimeSpan.FromSeconds(20)).ConfigureAwait(false);
