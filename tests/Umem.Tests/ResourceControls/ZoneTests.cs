using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Tests.ResourceControls;

/// <summary>The zones file and placing real processes in zones by PID namespace and cgroup.</summary>
public sealed class ZoneTests
{
    [Fact]
    public void ParsesZones()
    {
        var db = ZoneDatabase.Parse(
            "global:0::zone.max-locked-memory=(privileged,1048576,deny)\nweb:1:cgroup=/system.slice/web.service,pidns=4026532000:zone.max-locked-memory=(priv,65536,deny)\nidle:2::\n",
            "zones");
        Assert.Equal(["global", "web", "idle"], db.Entries.Select(z => z.Name));
        Assert.Equal(1048576UL, db.Global.LockedMemoryValues.Single().Value);
        Assert.Equal([new ZoneMatch(ZoneMatchKind.CgroupPrefix, "/system.slice/web.service"), new ZoneMatch(ZoneMatchKind.PidNamespace, "4026532000")],
            db.FindByName("web")!.Matches);
        Assert.Same(db.FindById(2), db.Find("idle"));
        Assert.Equal("global", ZoneDatabase.Parse("web:1:cgroup=/a:\n", "z").Entries[0].Name);
    }

    [Theory]
    [InlineData("web:1:", 1, "attributes", "4 ':'-separated")]
    [InlineData("web:1:::", 1, "attributes", "4 ':'-separated")]
    [InlineData("w b:1::", 1, "zonename", "contains ' '")]
    [InlineData("web:x::", 1, "zoneid", "not a non-negative")]
    [InlineData("web:0::", 1, "zonename", "only it, is zone 0")]
    [InlineData("global:3::", 1, "zoneid", "only it, is zone 0")]
    [InlineData("global:0:cgroup=/a:", 1, "match-list", "no rules")]
    [InlineData("web:1:pidns=abc:", 1, "match-list", "decimal inode")]
    [InlineData("web:1:cgroup=relative:", 1, "match-list", "absolute cgroup path")]
    [InlineData("web:1:uid=0:", 1, "match-list", "not pidns=INODE or cgroup=/PATH")]
    [InlineData("web:1::project.max-locked-memory=(privileged,1,deny)", 1, "attributes", "not a zone control")]
    [InlineData("web:1::zone.max-locked-memory=(basic,1,deny)", 1, "attributes", "no basic values")]
    [InlineData("web:1::\nweb:2::", 2, "zonename", "already defined on line 1")]
    [InlineData("web:1::\nweb2:1::", 2, "zoneid", "already used on line 1")]
    public void MalformedLineNamesFileLineAndField(string text, int line, string field, string message)
    {
        var e = Assert.Throws<ConfigFileException>(() => ZoneDatabase.Parse(text, "/etc/umem/zones"));
        var error = Assert.Single(e.Errors);
        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"/etc/umem/zones:{line}: {field}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANewPidNamespaceIsItsZone()
    {
        // unshare --pid --fork: unshare itself stays in our namespace; its child is pid 1 of a new one.
        using var unshare = ChildProcess.StartReady("exec unshare --pid --fork");
        string children = File.ReadAllText($"/proc/{unshare.Pid}/task/{unshare.Pid}/children").Trim();
        int inner = int.Parse(children.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        ulong innerNs = ProcessPlacement.Read(inner).PidNamespaceInode;
        ulong ourNs = ProcessPlacement.Read(Environment.ProcessId).PidNamespaceInode;
        Assert.NotEqual(ourNs, innerNs);

        var zones = ZoneDatabase.Parse($"contained:7:pidns={innerNs}:zone.max-locked-memory=(privileged,8192,deny)\n", "zones");
        var registry = new ResourceControlRegistry(ProjectDatabase.Load(ResourceControlFiles.ShippedProjectFile), zones, UserDatabase.Load());
        Assert.Equal("contained", registry.ResolveZone(inner).Name);
        Assert.Equal("global", registry.ResolveZone(Environment.ProcessId).Name);
        Assert.Equal("global", registry.ResolveZone(unshare.Pid).Name);
        Assert.Equal(7, registry.CreateCred(inner, 0, 0, Umem.Kernel.DataModel.LP64).ZoneId);
        Assert.Equal(8192UL, registry.GetZone(7).LockedMemory.Limit);
    }

    [Fact]
    public void CgroupPrefixMatchesWholePathComponents()
    {
        var placement = ProcessPlacement.Read(Environment.ProcessId);
        string path = placement.CgroupPaths.OrderByDescending(p => p.Length).First();
        var registry = new ResourceControlRegistry(ProjectDatabase.Load(ResourceControlFiles.ShippedProjectFile),
            ZoneDatabase.Parse($"other:2:cgroup={(path == "/" ? "/umem-sibling" : path + "-not")}:\nmine:3:cgroup={path}:\n", "zones"), UserDatabase.Load());
        Assert.Equal("mine", registry.ResolveZone(Environment.ProcessId).Name);
        Assert.True(placement.Matches(new ZoneMatch(ZoneMatchKind.CgroupPrefix, "/")));
        Assert.False(new ProcessPlacement(1, ["/ab/c"]).Matches(new ZoneMatch(ZoneMatchKind.CgroupPrefix, "/a")));
        Assert.True(new ProcessPlacement(1, ["/a/b/c"]).Matches(new ZoneMatch(ZoneMatchKind.CgroupPrefix, "/a/b")));
    }

    [Fact]
    public void AProcessThatIsGoneIsESRCH()
    {
        var registry = new ResourceControlRegistry(ProjectDatabase.Load(ResourceControlFiles.ShippedProjectFile),
            ZoneDatabase.Parse("z:1:pidns=1:\n", "zones"), UserDatabase.Load());
        var e = Assert.Throws<ErrnoException>(() => registry.ResolveZone(int.MaxValue));
        Assert.Equal(Errno.ESRCH, e.Errno);
    }
}
