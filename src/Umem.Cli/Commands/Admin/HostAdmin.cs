using System.CommandLine;
using System.Text.Json;
using Umem.Client.Admin;
using Umem.Host;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// What the commands that talk to a running host share: <c>--host-dir</c> (or <c>UMEM_HOST_DIR</c>) to find its admin
/// socket, <c>--json</c>, the one line when no host answers, and the exit status (0 it worked, 1 the host refused or is
/// not there, 2 asked wrongly).
/// </summary>
internal static class HostAdmin
{
    /// <summary>The environment variable naming the host directory (the one holding <c>dev/</c> and <c>admin</c>).</summary>
    internal const string HostDirVariable = "UMEM_HOST_DIR";

    /// <summary>The exit statuses, for every command's --help.</summary>
    internal const string ExitStatusHelp = "Exit status: 0 it worked; 1 the host refused (the line names the errno) or no host runs; 2 asked wrongly.";

    /// <summary>The <c>--host-dir</c> option.</summary>
    internal static Option<string?> HostDirOption() => new("--host-dir")
    {
        Description = $"The host's directory, holding dev/ and the admin socket (default: ${HostDirVariable}, else /run/umem as root, $XDG_RUNTIME_DIR/umem otherwise).",
    };

    /// <summary>The <c>--json</c> option.</summary>
    internal static Option<bool> JsonOption() => new("--json") { Description = "Print the host's answer as one JSON object (docs/protocol.md, \"The admin socket\")." };

    /// <summary>The host directory when none is named: $UMEM_HOST_DIR, else the one above the default device directory.</summary>
    internal static string DefaultHostDirectory() =>
        Environment.GetEnvironmentVariable(HostDirVariable) is { Length: > 0 } dir ? dir
        : Path.GetDirectoryName(DeviceHostOptions.DefaultDeviceDirectory())!;

    /// <summary>The admin socket of the host in <paramref name="hostDir"/> (the default one when null).</summary>
    internal static string SocketPath(string? hostDir) =>
        Path.Combine(Path.GetFullPath(hostDir ?? DefaultHostDirectory()), DeviceHostOptions.AdminSocketName);

    /// <summary>
    /// Sends <paramref name="request"/> to the host; null after one line on <paramref name="error"/> when there is no
    /// host to ask or it refused (then <paramref name="status"/> is 1).
    /// </summary>
    internal static AdminReply? Call(string command, string? hostDir, AdminRequest request, TextWriter error, out int status)
    {
        string path = SocketPath(hostDir);
        status = ExitCodes.Failure;
        AdminClient client;
        try
        {
            client = AdminClient.Connect(path);
        }
        catch (ErrnoException e)
        {
            error.WriteLine($"umem {command}: no host answers at {path} ({e.Errno.Name()}): start one with 'umem host -d DRIVER', or name its directory with --host-dir or {HostDirVariable}");
            return null;
        }
        using (client)
        {
            AdminReply reply;
            try
            {
                reply = client.Call(request);
            }
            catch (ErrnoException e)
            {
                error.WriteLine($"umem {command}: {e.Message}");
                return null;
            }
            if (reply.Error is not null)
            {
                error.WriteLine($"umem {command}: {reply.Message ?? reply.Error}");
                return null;
            }
            status = ExitCodes.Success;
            return reply;
        }
    }

    /// <summary>
    /// Asks the host and prints its answer: one line of JSON with <paramref name="json"/>, else <paramref name="table"/>
    /// of it. The exit status.
    /// </summary>
    internal static int Show(ParseResult parse, string command, Option<string?> hostDir, Option<bool> json, AdminRequest request, Func<AdminReply, string> table)
    {
        var reply = Call(command, parse.GetValue(hostDir), request, parse.InvocationConfiguration.Error, out int status);
        if (reply is null) return status;
        parse.InvocationConfiguration.Output.Write(parse.GetValue(json) ? Json(reply) + "\n" : table(reply));
        return ExitCodes.Success;
    }

    /// <summary>The reply as one line of JSON.</summary>
    internal static string Json(AdminReply reply) => JsonSerializer.Serialize(reply, AdminJson.Default.AdminReply);
}
