using System.Collections.Concurrent;
using Umem.Platform;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// The resource controls of every project and zone, and the locked-memory accounting against them
/// (rctl.c's rctl_incr_locked_mem / rctl_decr_locked_mem). Umem's byte counts are the truth: the Linux kernel
/// knows nothing of projects, and root bypasses RLIMIT_MEMLOCK.
/// </summary>
/// <remarks>
/// Charging takes no lock. Each project and zone has its own usage word on its own cache line; a charge
/// compare-and-swaps the project's word and then the zone's, and gives the project's back if the zone denies.
/// No counter is ever pushed past its threshold. illumos holds one per-zone mutex across both steps instead;
/// the difference is that a charge racing another one's brief project reservation can be denied where the
/// mutex would have admitted it — never the other way round.
/// </remarks>
public sealed class ResourceControlRegistry : IResourceControlService
{
    private readonly object _configLock = new();
    private readonly ConcurrentDictionary<int, RctlEntity> _projects = new();
    private readonly ConcurrentDictionary<int, RctlEntity> _zones = new();
    private ProjectDatabase _projectDb;
    private ZoneDatabase _zoneDb;
    private UserDatabase _users;

    /// <summary>A registry over parsed databases (the host builds one at start).</summary>
    public ResourceControlRegistry(ProjectDatabase projects, ZoneDatabase? zones = null, UserDatabase? users = null)
    {
        _projectDb = projects;
        _zoneDb = zones ?? ZoneDatabase.GlobalOnly;
        _users = users ?? UserDatabase.Load();
        Apply(_projectDb, _zoneDb);
    }

    /// <summary>
    /// Reads the project and zones files (the defaults of <see cref="ResourceControlFiles"/> when null) and the
    /// system's /etc/passwd and /etc/group. A bad file throws <see cref="ConfigFileException"/>.
    /// </summary>
    public static ResourceControlRegistry Load(string? projectFile = null, string? zonesFile = null, UserDatabase? users = null)
    {
        var (projects, zones) = ReadFiles(projectFile, zonesFile);
        return new ResourceControlRegistry(projects, zones, users);
    }

    private static (ProjectDatabase Projects, ZoneDatabase Zones) ReadFiles(string? projectFile, string? zonesFile)
    {
        var projects = ProjectDatabase.Load(projectFile ?? ResourceControlFiles.DefaultProjectFile);
        string zonePath = zonesFile ?? ResourceControlFiles.DefaultZonesFile;
        var zones = zonesFile is null && !File.Exists(zonePath) ? ZoneDatabase.GlobalOnly : ZoneDatabase.Load(zonePath);
        return (projects, zones);
    }

    /// <summary>The project database in force.</summary>
    public ProjectDatabase Projects => Volatile.Read(ref _projectDb);

    /// <summary>The zone database in force.</summary>
    public ZoneDatabase Zones => Volatile.Read(ref _zoneDb);

    /// <summary>The users and groups used to resolve projects.</summary>
    public UserDatabase Users => Volatile.Read(ref _users);

    /// <summary>
    /// The uid besides root that may change values: the host's own uid, whose administrator reaches it through the
    /// admin socket (the host sets it); 0 (root only) otherwise, as prctl(1) wants the privilege on illumos.
    /// </summary>
    public uint AdministratorUid { get; set; }

    /// <summary>Raised after a charge is denied, once per exceeded value (after its signal, if any, was sent).</summary>
    public event EventHandler<RctlActionEventArgs>? ActionFired;

    /// <summary>
    /// Replaces the databases (as projmod -A applies a changed project file). The new files were parsed whole
    /// before this is called, so a bad file never gets here. Every project and zone in the new files takes its
    /// values from them (values set with prctl are replaced); entities dropped from the files keep their usage
    /// (existing locks stay charged and are returned normally) and fall back to the system value only.
    /// </summary>
    public void Reload(ProjectDatabase projects, ZoneDatabase zones, UserDatabase? users = null)
    {
        lock (_configLock)
        {
            Volatile.Write(ref _projectDb, projects);
            Volatile.Write(ref _zoneDb, zones);
            if (users is not null) Volatile.Write(ref _users, users);
            Apply(projects, zones);
        }
    }

    /// <summary>
    /// Re-reads the files, found as <see cref="Load"/> finds them (and <paramref name="users"/>, when given): both
    /// are parsed whole first, and a bad one throws <see cref="ConfigFileException"/> with nothing changed.
    /// </summary>
    public void ReloadFiles(string? projectFile, string? zonesFile, UserDatabase? users = null)
    {
        var (projects, zones) = ReadFiles(projectFile, zonesFile);
        Reload(projects, zones, users);
    }

    /// <summary>The entity of a project id (one with no values exists for any id).</summary>
    public RctlEntity GetProject(int id) =>
        _projects.GetOrAdd(id, i => new RctlEntity(RctlEntityKind.Project, i, Projects.FindById(i)?.Name ?? $"project{i}", []));

    /// <summary>The entity of a zone id.</summary>
    public RctlEntity GetZone(int id) =>
        _zones.GetOrAdd(id, i => new RctlEntity(RctlEntityKind.Zone, i, Zones.FindById(i)?.Name ?? $"zone{i}", []));

    /// <summary>A project by name or id, as prctl's <c>-i project ID</c> takes it; null if unknown.</summary>
    public RctlEntity? FindProject(string nameOrId) =>
        Projects.Find(nameOrId) is { } p ? GetProject(p.Id)
        : _projects.Values.FirstOrDefault(e => e.Name == nameOrId || e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == nameOrId);

    /// <summary>A zone by name or id; null if unknown.</summary>
    public RctlEntity? FindZone(string nameOrId) =>
        Zones.Find(nameOrId) is { } z ? GetZone(z.Id)
        : _zones.Values.FirstOrDefault(e => e.Name == nameOrId || e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == nameOrId);

    /// <summary>Every project entity, by id.</summary>
    public IReadOnlyList<RctlEntity> ProjectEntities => [.. _projects.Values.OrderBy(e => e.Id)];

    /// <summary>Every zone entity, by id.</summary>
    public IReadOnlyList<RctlEntity> ZoneEntities => [.. _zones.Values.OrderBy(e => e.Id)];

    /// <summary>
    /// The project a process of <paramref name="uid"/> joins. With no explicit choice this is getdefaultproj():
    /// <c>user.NAME</c>, then <c>group.GROUP</c> (the user's primary group from passwd), then <c>default</c>, each
    /// only if its lists do not exclude the user. An explicit <paramref name="project"/> must exist and admit the
    /// user (inproj()). A uid without a passwd entry gets <c>default</c>. Throws ErrnoException: ESRCH when no
    /// project fits, EPERM when the explicit project does not admit the user.
    /// </summary>
    public ProjectEntry ResolveProject(uint uid, uint gid, string? project = null)
    {
        var db = Projects;
        var users = Users;
        var pw = users.FindUser(uid);
        string user = pw?.Name ?? uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? primaryGroup = users.FindGroup(pw?.Gid ?? gid)?.Name;
        IReadOnlyCollection<string> supplementary = pw is null ? [] : users.SupplementaryGroups(pw.Name);

        if (project is not null)
        {
            var chosen = db.Find(project)
                ?? throw new ErrnoException(Errno.ESRCH, $"setproject(\"{project}\", uid={uid})", $"no such project in {db.Path}");
            bool isDefault = chosen.Name == "default" || chosen.Name == $"user.{user}" ||
                             (primaryGroup is not null && chosen.Name == $"group.{primaryGroup}");
            return chosen.IsMember(user, primaryGroup, supplementary, isDefault)
                ? chosen
                : throw new ErrnoException(Errno.EPERM, $"setproject(\"{project}\", uid={uid})", $"user {user} is not a member of project {chosen.Name}");
        }

        string[] candidates = pw is null
            ? ["default"]
            : primaryGroup is null ? [$"user.{user}", "default"] : [$"user.{user}", $"group.{primaryGroup}", "default"];
        foreach (string name in candidates)
        {
            if (db.FindByName(name) is { } p && p.IsMember(user, primaryGroup, supplementary, isDefaultProject: true))
                return p;
        }
        throw new ErrnoException(Errno.ESRCH, $"getdefaultproj(uid={uid})",
            $"no project for user {user}: none of {string.Join(", ", candidates)} in {db.Path} admits it");
    }

    /// <summary>The zone of process <paramref name="pid"/>: the first zone whose rules match, else the global zone.</summary>
    public ZoneEntry ResolveZone(int pid)
    {
        var db = Zones;
        if (db.Entries.Length == 1) return db.Global;
        var placement = ProcessPlacement.Read(pid);
        foreach (var zone in db.Entries)
        {
            if (zone.Matches.Any(placement.Matches)) return zone;
        }
        return db.Global;
    }

    /// <summary>A credential with the project and zone resolved for the process.</summary>
    public Cred CreateCred(int pid, uint uid, uint gid, DataModel model, string? project = null) =>
        new(pid, uid, gid, model, ResolveProject(uid, gid, project).Id, ResolveZone(pid).Id);

    /// <summary>
    /// Charges <paramref name="bytes"/> of locked memory to a project and its zone for process
    /// <paramref name="pid"/>. Returns None (and the charge) or EAGAIN when a limit denies or the count would
    /// overflow (the DDI turns that into ENOMEM). While both controls are unlimited nothing is charged, as in
    /// illumos (init_lockedmem_rctl_flag); the returned charge remembers that.
    /// </summary>
    public Errno TryChargeLockedMemory(RctlEntity project, RctlEntity zone, int pid, ulong bytes, out LockedMemoryCharge charge)
    {
        charge = LockedMemoryCharge.None;
        var pc = project.LockedMemory;
        var zc = zone.LockedMemory;
        if (pc.IsUnlimited && zc.IsUnlimited) return Errno.None;

        var test = pc.TryCharge(bytes);
        if (test != RctlTest.Allow)
        {
            Denied(project, pid, bytes, test);
            return Errno.EAGAIN;
        }
        test = zc.TryCharge(bytes);
        if (test != RctlTest.Allow)
        {
            pc.Uncharge(bytes);
            Denied(zone, pid, bytes, test);
            return Errno.EAGAIN;
        }
        charge = new LockedMemoryCharge(project, zone, bytes);
        return Errno.None;
    }

    /// <summary>Returns a charge exactly (i_ddi_decr_locked_memory). An uncharged lock returns nothing.</summary>
    public static void UnchargeLockedMemory(in LockedMemoryCharge charge)
    {
        if (!charge.IsCharged) return;
        charge.Zone!.LockedMemory.Uncharge(charge.Bytes);
        charge.Project!.LockedMemory.Uncharge(charge.Bytes);
    }

    /// <summary>
    /// Changes a privileged value at run time (prctl -s/-r/-x). Only uid 0 and <see cref="AdministratorUid"/> may (EPERM otherwise). Lowering a
    /// value below the usage denies new charges and leaves existing locks alone.
    /// </summary>
    public void SetValue(Cred caller, RctlEntity entity, RctlValueChange change, RctlValue value)
    {
        string call = $"setrctl({entity.LockedMemory.Definition.Name}, {entity}, {change.ToString().ToLowerInvariant()} {value})";
        if (caller.Uid != 0 && caller.Uid != AdministratorUid)
            throw new ErrnoException(Errno.EPERM, call, AdministratorUid == 0
                ? "changing a privileged value needs uid 0"
                : $"changing a privileged value needs uid 0 or {AdministratorUid} (the host's)");
        if (value.Privilege != RctlPrivilege.Privileged)
            throw new ErrnoException(Errno.EINVAL, call, "only privileged values can be set on this control");
        var own = entity.Kind == RctlEntityKind.Project ? _projects.GetValueOrDefault(entity.Id) : _zones.GetValueOrDefault(entity.Id);
        if (!ReferenceEquals(own, entity))
            throw new ArgumentException($"{entity} does not belong to this registry", nameof(entity));
        Errno result = Errno.None;
        entity.LockedMemory.UpdatePrivilegedValues(current =>
        {
            switch (change)
            {
                case RctlValueChange.Add:
                    if (current.Any(v => v.Value == value.Value)) { result = Errno.EEXIST; return current; }
                    return [.. current, value];
                case RctlValueChange.Replace:
                    if (current.Skip(1).Any(v => v.Value == value.Value)) { result = Errno.EEXIST; return current; }
                    return current.Count == 0 ? [value] : [value, .. current.Skip(1)];
                case RctlValueChange.Delete:
                    if (!current.Any(v => v.Value == value.Value)) { result = Errno.ESRCH; return current; }
                    return current.Where(v => v.Value != value.Value);
                default:
                    result = Errno.EINVAL;
                    return current;
            }
        });
        if (result != Errno.None)
            throw new ErrnoException(result, call, result == Errno.EEXIST ? "a value with that threshold exists" : "no value with that threshold");
    }

    /// <inheritdoc/>
    public RctlEntitySnapshot? Find(RctlEntityKind kind, string nameOrId) =>
        (kind == RctlEntityKind.Project ? FindProject(nameOrId) : FindZone(nameOrId)) is { } e ? RctlEntitySnapshot.Of(e) : null;

    /// <inheritdoc/>
    public IReadOnlyList<RctlEntitySnapshot> FindProcess(int pid) => [.. EntitiesOf(pid).Select(RctlEntitySnapshot.Of)];

    /// <summary>The project and zone process <paramref name="pid"/> is in now (from its uid, gid and placement; ESRCH when it is gone).</summary>
    public IReadOnlyList<RctlEntity> EntitiesOf(int pid)
    {
        var (uid, gid) = ProcStatus.ReadIds(pid);
        var cred = CreateCred(pid, uid, gid, DataModel.LP64);
        return [GetProject(cred.ProjectId), GetZone(cred.ZoneId)];
    }

    /// <inheritdoc/>
    public void SetValue(Cred caller, RctlEntityKind kind, int id, string control, RctlValueChange change, RctlValue value)
    {
        var entity = kind == RctlEntityKind.Project ? GetProject(id) : GetZone(id);
        if (entity.FindControl(control) is null)
            throw new ErrnoException(Errno.EINVAL, $"setrctl({control}, {entity})", $"{entity} has no control {control}");
        SetValue(caller, entity, change, value);
    }

    private void Denied(RctlEntity entity, int pid, ulong bytes, RctlTest test)
    {
        var control = entity.LockedMemory;
        ulong usage = control.Usage;
        // Overflow of the 64-bit count denies without an exceeded value (rctl_incr_locked_mem).
        if (test == RctlTest.Overflow) return;
        foreach (var value in control.Exceeded(usage + bytes < usage ? ulong.MaxValue : usage + bytes))
        {
            Errno signalled = Errno.None;
            if (value.Signal is { } sig)
                signalled = RctlSignalSender.Send(pid, sig);
            ActionFired?.Invoke(this, new RctlActionEventArgs(entity, value, pid, usage, bytes, signalled));
        }
    }

    private void Apply(ProjectDatabase projects, ZoneDatabase zones)
    {
        foreach (var p in projects.Entries)
        {
            var e = GetProject(p.Id);
            e.Name = p.Name;
            e.LockedMemory.SetPrivilegedValues(p.LockedMemoryValues);
        }
        foreach (var e in _projects.Values.Where(e => projects.FindById(e.Id) is null))
            e.LockedMemory.SetPrivilegedValues([]);
        foreach (var z in zones.Entries)
        {
            var e = GetZone(z.Id);
            e.Name = z.Name;
            e.LockedMemory.SetPrivilegedValues(z.LockedMemoryValues);
        }
        foreach (var e in _zones.Values.Where(e => zones.FindById(e.Id) is null))
            e.LockedMemory.SetPrivilegedValues([]);
    }
}

/// <summary>How SetValue changes the privileged values (prctl -s, -r, -x).</summary>
public enum RctlValueChange
{
    /// <summary>prctl -s: add a value (EEXIST if one with the same threshold exists).</summary>
    Add,

    /// <summary>prctl -r: replace the first privileged value, or add it when there is none.</summary>
    Replace,

    /// <summary>prctl -x: delete the value with this threshold (ESRCH if none).</summary>
    Delete,
}
