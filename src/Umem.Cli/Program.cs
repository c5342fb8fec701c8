using System.CommandLine;
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
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
