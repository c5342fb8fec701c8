using System.CommandLine;
using Umem.Cli.Commands;

var root = new RootCommand("Umem: driver memory shared with applications in other processes, as the Solaris DDI does it.")
{
    AllocCommand.Create(),
    PrctlCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
