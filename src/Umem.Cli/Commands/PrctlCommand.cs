using System.CommandLine;
using System.Globalization;
using Umem.Kernel;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Cli.Commands;

/// <summary>
/// <c>umem prctl</c>: prctl(1) for Umem's resource controls. Shows the usage and values of
/// project.max-locked-memory and zone.max-locked-memory, and replaces, adds or deletes privileged values.
/// Exit status as prctl: 0 success, 1 fatal error, 2 bad options.
/// </summary>
/// <remarks>
/// The data comes from an <see cref="IResourceControlService"/>: the running host's registry through its admin socket
/// (live usage; a change takes effect at once), or with <c>--offline</c> a registry built in this process from the
/// project and zones files, to check them (a change then lasts only for this command).
/// </remarks>
public static class PrctlCommand
{
    /// <summary>Exit status: success.</summary>
    public const int Success = 0;

    /// <summary>Exit status: a fatal error (unknown project, permission denied, bad file).</summary>
    public const int Fatal = 1;

    /// <summary>Exit status: bad options.</summary>
    public const int Usage = 2;

    /// <summary>
    /// The command. <paramref name="serviceFactory"/> gets where the data is to come from and returns the service to
    /// use; by default the host's (<see cref="Admin.AdminResourceControlService"/>), or with --offline a registry loaded
    /// from the files.
    /// </summary>
    public static Command Create(Func<PrctlSource, IResourceControlService>? serviceFactory = null)
    {
        serviceFactory ??= source => source.Offline
            ? ResourceControlRegistry.Load(source.ProjectFile, source.ZonesFile)
            : Admin.AdminResourceControlService.Connect(source.HostDir);
        var name = Lenient(new Option<string?>("--name", "-n") { Description = "The resource control (project.max-locked-memory or zone.max-locked-memory)." });
        var idtype = Lenient(new Option<string?>("--idtype", "-i") { Description = "What the IDs are: process (default), project or zone (also pid, projid, zoneid)." });
        var parseable = new Option<bool>("-P") { Description = "Parseable output: one space-separated line per value, raw numbers." };
        var json = Admin.HostAdmin.JsonOption();
        var privilege = Lenient(new Option<string?>("-t") { Description = "The privilege of the value to set: privileged (basic is not allowed on these controls; system is fixed)." });
        var set = new Option<bool>("-s") { Description = "Add a value (needs -n and -v)." };
        var replace = new Option<bool>("-r") { Description = "Replace the first privileged value, or add one if there is none (needs -n and -v)." };
        var delete = new Option<bool>("-x") { Description = "Delete the value with this threshold (needs -n and -v)." };
        var value = Lenient(new Option<string?>("-v") { Description = "The value: bytes, or with a unit B, K/KB, M/MB, G/GB, T/TB, P/PB, E/EB (powers of 1024)." });
        var signal = Lenient(new Option<string?>("--signal") { Description = "With -s or -r: also send this signal to the process that exceeds the value (TERM, KILL, HUP, ABRT, STOP)." });
        var offline = new Option<bool>("--offline") { Description = "Read the project and zones files in this process instead of asking the running host (to check them; a change lasts only for this command)." };
        var projectFile = Lenient(new Option<string?>("--project-file") { Description = "With --offline: the project file (default /etc/umem/project, else the one shipped with Umem)." });
        var zonesFile = Lenient(new Option<string?>("--zones-file") { Description = "With --offline: the zones file (default /etc/umem/zones, else the one shipped with Umem)." });
        var hostDir = Lenient(Admin.HostAdmin.HostDirOption());
        var ids = new Argument<string[]>("id") { Description = "Processes (pids), projects or zones (names or numbers).", Arity = ArgumentArity.ZeroOrMore };

        var command = new Command("prctl", $"Get or set the resource controls of processes, projects or zones of the running host (prctl(1)). {Admin.HostAdmin.ExitStatusHelp}")
        {
            name, idtype, parseable, json, privilege, set, replace, delete, value, signal, offline, projectFile, zonesFile, hostDir, ids,
        };
        // Every error is reported by the action so that bad options exit with 2, as prctl's do.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            int Bad(string message)
            {
                stderr.WriteLine($"prctl: {message}");
                return Usage;
            }

            if (parse.UnmatchedTokens.Count > 0) return Bad($"unknown option or argument '{parse.UnmatchedTokens[0]}'");
            foreach (var o in new[] { name, idtype, privilege, value, signal, projectFile, zonesFile, hostDir })
            {
                if (parse.GetResult(o) is { } r && r.Tokens.Count == 0 && parse.GetValue(o) is null)
                    return Bad($"option {o.Name} needs a value");
            }
            string[] targets = parse.GetValue(ids) ?? [];
            if (targets.FirstOrDefault(t => t.StartsWith('-')) is { } unknown) return Bad($"unknown option '{unknown}'");
            if (targets.Length == 0) return Bad("no id given (usage: umem prctl [-P] [-n name [-s|-r|-x -v value]] [-i process|project|zone] id...)");

            string idtypeText = parse.GetValue(idtype) ?? "process";
            if (!TryParseIdType(idtypeText, out RctlEntityKind? kind))
                return Bad($"unknown idtype '{idtypeText}' (process, project or zone)");

            string? control = parse.GetValue(name);
            if (control is not null && ResourceControlDefinition.Find(control) is null)
                return Bad($"unknown resource control '{control}' (project.max-locked-memory, zone.max-locked-memory)");

            int modes = (parse.GetValue(set) ? 1 : 0) + (parse.GetValue(replace) ? 1 : 0) + (parse.GetValue(delete) ? 1 : 0);
            if (modes > 1) return Bad("-s, -r and -x exclude each other");
            RctlValue? newValue = null;
            RctlValueChange change = parse.GetValue(set) ? RctlValueChange.Add : parse.GetValue(delete) ? RctlValueChange.Delete : RctlValueChange.Replace;
            if (modes == 1)
            {
                if (control is null) return Bad("-s, -r and -x need -n name");
                if (parse.GetValue(value) is not { } text) return Bad("-s, -r and -x need -v value");
                if (!ByteUnits.TryParse(text, out ulong bytes, out string? valueError)) return Bad(valueError!);
                string? privilegeText = parse.GetValue(privilege);
                var definition = ResourceControlDefinition.Find(control)!;
                if (privilegeText is not null && definition.ParseSettablePrivilege(privilegeText, out string? privilegeError) is null)
                    return Bad(privilegeError!);
                RctlSignal? sig = null;
                if (parse.GetValue(signal) is { } signalText)
                {
                    sig = RctlSignals.Parse(signalText, out string? signalError);
                    if (sig is null) return Bad(signalError!);
                }
                newValue = new RctlValue(RctlPrivilege.Privileged, bytes, sig);
            }
            else if (parse.GetValue(value) is not null || parse.GetValue(signal) is not null)
            {
                return Bad("-v and --signal are used with -s, -r or -x");
            }

            bool isOffline = parse.GetValue(offline);
            if (!isOffline && (parse.GetValue(projectFile) is not null || parse.GetValue(zonesFile) is not null))
                return Bad("--project-file and --zones-file are read with --offline; the running host reads its own");
            if (isOffline && parse.GetValue(hostDir) is not null) return Bad("--host-dir and --offline exclude each other");

            IResourceControlService service;
            try
            {
                service = serviceFactory(new PrctlSource(isOffline, parse.GetValue(projectFile), parse.GetValue(zonesFile), parse.GetValue(hostDir)));
            }
            catch (Exception e) when (e is ConfigFileException or ErrnoException or IOException)
            {
                stderr.WriteLine($"prctl: {e.Message}");
                return Fatal;
            }
            using var owned = service as IDisposable;

            int status = Success;
            var shown = new List<Protocol.Admin.EntityView>();
            foreach (string id in targets)
            {
                try
                {
                    IReadOnlyList<RctlEntitySnapshot> entities;
                    if (kind is { } k)
                    {
                        var found = service.Find(k, id);
                        if (found is null)
                        {
                            stderr.WriteLine($"prctl: {id}: no such {k.ToString().ToLowerInvariant()}");
                            status = Fatal;
                            continue;
                        }
                        entities = [found];
                    }
                    else
                    {
                        if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                            return Bad($"'{id}' is not a process id");
                        entities = service.FindProcess(pid);
                    }

                    if (newValue is not null)
                    {
                        var definition = ResourceControlDefinition.Find(control!)!;
                        var target = entities.FirstOrDefault(e => e.Kind == definition.Entity);
                        if (target is null)
                            return Bad($"{control} is a {definition.Entity.ToString().ToLowerInvariant()} control; use -i {definition.Entity.ToString().ToLowerInvariant()}");
                        service.SetValue(Caller(), target.Kind, target.Id, control!, change, newValue);
                        continue;
                    }
                    foreach (var e in entities)
                    {
                        if (control is not null && !e.Controls.Any(c => c.Name == control)) continue;
                        if (parse.GetValue(json)) shown.Add(Host.Admin.AdminViews.Entity(e with { Controls = [.. e.Controls.Where(c => control is null || c.Name == control)] }));
                        else stdout.Write(PrctlFormatter.Format(e, control, parse.GetValue(parseable)));
                    }
                }
                catch (ErrnoException e)
                {
                    stderr.WriteLine($"prctl: {id}: {e.Message}");
                    status = Fatal;
                }
            }
            if (parse.GetValue(json) && newValue is null) stdout.WriteLine(Admin.HostAdmin.Json(new Protocol.Admin.AdminReply { Entities = shown }));
            return status;
        });
        return command;
    }

    /// <summary>Where prctl's data comes from.</summary>
    /// <param name="Offline">True: the files, in this process; false: the running host.</param>
    /// <param name="ProjectFile">--project-file (offline only).</param>
    /// <param name="ZonesFile">--zones-file (offline only).</param>
    /// <param name="HostDir">--host-dir: the host's directory (null: the default).</param>
    public sealed record PrctlSource(bool Offline, string? ProjectFile, string? ZonesFile, string? HostDir);

    /// <summary>prctl's idtypes: process (null), project or zone, by name or the pid/projid/zoneid aliases.</summary>
    private static bool TryParseIdType(string text, out RctlEntityKind? kind)
    {
        kind = null;
        switch (text)
        {
            case "process" or "pid":
                return true;
            case "project" or "projid":
                kind = RctlEntityKind.Project;
                return true;
            case "zone" or "zoneid":
                kind = RctlEntityKind.Zone;
                return true;
            default:
                return false;
        }
    }

    private static Option<string?> Lenient(Option<string?> option)
    {
        // A missing value is reported by the action (exit 2), not by the parser (exit 1).
        option.Arity = ArgumentArity.ZeroOrOne;
        return option;
    }

    private static Cred Caller()
    {
        var (uid, gid) = ProcStatus.ReadIds(Environment.ProcessId);
        return new Cred(Environment.ProcessId, uid, gid, DataModel.LP64);
    }
}
