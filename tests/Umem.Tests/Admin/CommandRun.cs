using System.CommandLine;
using System.Text.Json;
using Umem.Protocol.Admin;

namespace Umem.Tests.Admin;

/// <summary>A command of the `umem` CLI run in this process, its output and error lines captured.</summary>
internal static class CommandRun
{
    internal static (int Exit, string Out, string Err) Invoke(Command command, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = command.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs a command with <c>--json</c> and reads the host's answer back; fails on any other exit than 0.</summary>
    internal static AdminReply Json(Command command, params string[] args)
    {
        var (exit, output, error) = Invoke(command, [.. args, "--json"]);
        Assert.True(exit == 0, $"exit {exit}: {error}");
        return JsonSerializer.Deserialize(output, AdminJson.Default.AdminReply)!;
    }

    /// <summary>The cells of the table row whose first cell is <paramref name="first"/>.</summary>
    internal static string[] Row(string table, string first) =>
        table.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).First(c => c.Length > 0 && c[0] == first);
}
