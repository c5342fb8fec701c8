using System.Globalization;
using Umem.Client.Admin;
using Umem.Kernel;
using Umem.Kernel.ResourceControls;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Cli.Commands.Admin;

/// <summary>
/// prctl's data source when a host runs: the live registry of the host, through its admin socket. Usage is the
/// host's; a change takes effect at once (new locks are judged by it, existing ones stay charged, as on illumos).
/// Who may change is decided by the host from the connection's SO_PEERCRED, not from <c>caller</c>.
/// </summary>
internal sealed class AdminResourceControlService : IResourceControlService, IDisposable
{
    private readonly AdminClient _client;

    private AdminResourceControlService(AdminClient client) => _client = client;

    /// <summary>Connects to the host in <paramref name="hostDir"/>; the ErrnoException's message is the one line to print.</summary>
    internal static AdminResourceControlService Connect(string? hostDir)
    {
        string path = HostAdmin.SocketPath(hostDir);
        try
        {
            return new AdminResourceControlService(AdminClient.Connect(path));
        }
        catch (ErrnoException e)
        {
            throw new ErrnoException(e.Errno, $"no host answers at {path}",
                $"start one with 'umem host -d DRIVER', name its directory with --host-dir or {HostAdmin.HostDirVariable}, or check files with --offline");
        }
    }

    public RctlEntitySnapshot? Find(RctlEntityKind kind, string nameOrId)
    {
        var reply = _client.Call(new AdminRequest { Op = AdminOp.RctlGet, IdType = Kind(kind), Id = nameOrId });
        if (reply.Error == nameof(Errno.ESRCH)) return null;
        return Snapshots(reply).Single();
    }

    public IReadOnlyList<RctlEntitySnapshot> FindProcess(int pid) =>
        Snapshots(_client.Call(new AdminRequest { Op = AdminOp.RctlGet, IdType = "process", Id = pid.ToString(CultureInfo.InvariantCulture) }));

    public void SetValue(Cred caller, RctlEntityKind kind, int id, string control, RctlValueChange change, RctlValue value)
    {
        Snapshots(_client.Call(new AdminRequest
        {
            Op = AdminOp.RctlSet,
            IdType = Kind(kind),
            Id = id.ToString(CultureInfo.InvariantCulture),
            Control = control,
            Change = change switch
            {
                RctlValueChange.Add => "add",
                RctlValueChange.Delete => "delete",
                _ => "replace",
            },
            Value = value.Value,
            Signal = value.Signal?.ShortName(),
        }));
    }

    public void Dispose() => _client.Dispose();

    private static string Kind(RctlEntityKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The reply's entities as prctl's formatter takes them; a refusal is thrown with the host's errno and words.</summary>
    private static List<RctlEntitySnapshot> Snapshots(AdminReply reply)
    {
        if (reply.Error is { } error)
            throw ErrnoException.Relayed(ErrnoNames.TryParse(error, out var errno) ? errno : Errno.EIO, reply.Message ?? error);
        return [.. (reply.Entities ?? []).Select(Snapshot)];
    }

    private static RctlEntitySnapshot Snapshot(EntityView e) =>
        new(Enum.Parse<RctlEntityKind>(e.Kind, ignoreCase: true), e.Id, e.Name, [.. e.Controls.Select(Control)]);

    private static RctlControlSnapshot Control(ControlView c) =>
        new(c.Name, ResourceControlDefinition.Find(c.Name)?.Flags ?? (c.Bytes ? RctlGlobalFlags.Bytes : 0), c.Usage, [.. c.Values.Select(Value)]);

    private static RctlValue Value(ValueView v) =>
        new(Enum.Parse<RctlPrivilege>(v.Privilege, ignoreCase: true), v.Value, v.Signal is null ? null : RctlSignals.Parse(v.Signal, out _));
}
