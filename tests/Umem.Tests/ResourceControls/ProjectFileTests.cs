using Umem.Kernel.ResourceControls;

namespace Umem.Tests.ResourceControls;

public sealed class ProjectFileTests
{
    private const string Good = """
        # comment
        system:0::::
        user.root:1::::
        default:3::::
        build:100:build jobs:root,!nobody:staff,!*:project.max-locked-memory=(privileged,1073741824,deny);project.pool=pool_default
        batch:101::*::project.max-locked-memory=(priv,4096,deny,signal=TERM),(privileged,8192,signal=SIGKILL)
        """;

    [Fact]
    public void ParsesEveryField()
    {
        var db = ProjectDatabase.Parse(Good, "good.project");
        Assert.Equal(["system", "user.root", "default", "build", "batch"], db.Entries.Select(e => e.Name));
        var build = db.FindByName("build")!;
        Assert.Equal(100, build.Id);
        Assert.Equal("build jobs", build.Comment);
        Assert.Equal(["root", "!nobody"], build.Users);
        Assert.Equal(["staff", "!*"], build.Groups);
        Assert.Equal(["project.max-locked-memory", "project.pool"], build.Attributes.Select(a => a.Key));
        Assert.Equal([new RctlValue(RctlPrivilege.Privileged, 1073741824)], build.LockedMemoryValues);
        Assert.Equal(5, build.Line);
        var batch = db.Find("101")!;
        Assert.Equal([new RctlValue(RctlPrivilege.Privileged, 4096, RctlSignal.SIGTERM), new RctlValue(RctlPrivilege.Privileged, 8192, RctlSignal.SIGKILL)],
            batch.LockedMemoryValues);
        Assert.Empty(db.FindByName("default")!.LockedMemoryValues);
    }

    [Fact]
    public void ShippedDefaultFileLoads()
    {
        var db = ProjectDatabase.Load(ResourceControlFiles.ShippedProjectFile);
        Assert.Equal(["system", "user.root", "noproject", "default", "group.staff"], db.Entries.Select(e => e.Name));
        Assert.Equal([0, 1, 2, 3, 10], db.Entries.Select(e => e.Id));
        Assert.All(db.Entries, e => Assert.Empty(e.LockedMemoryValues));
        var zones = ZoneDatabase.Load(ResourceControlFiles.ShippedZonesFile);
        Assert.Single(zones.Entries);
        Assert.Equal("global", zones.Global.Name);
    }

    [Theory]
    [InlineData("p:1:::", 1, "attributes", "6 ':'-separated fields")]
    [InlineData("p", 1, "projid", "missing")]
    [InlineData("p:1:::::", 1, "attributes", "contains ':'")]
    [InlineData(":1::::", 1, "projname", "empty")]
    [InlineData("1p:1::::", 1, "projname", "must begin with a letter")]
    [InlineData("p q:1::::", 1, "projname", "contains ' '")]
    [InlineData("p:x::::", 1, "projid", "not a non-negative decimal")]
    [InlineData("p:-1::::", 1, "projid", "not a non-negative decimal")]
    [InlineData("p:2147483648::::", 1, "projid", "larger than 2147483647")]
    [InlineData("p:1::a,,b:::", 1, "attributes", "contains ':'")]
    [InlineData("p:1::a,,b::", 1, "user-list", "empty name")]
    [InlineData("p:1::a b::", 1, "user-list", "is not a name")]
    [InlineData("p:1:::g,!:", 1, "group-list", "empty name")]
    [InlineData("p:1::::project.max-locked-memory=(basic,10,deny)", 1, "attributes", "no basic values")]
    [InlineData("p:1::::project.max-locked-memory=(system,10,deny)", 1, "attributes", "system value is fixed")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,1G,deny)", 1, "attributes", "unit suffixes are not allowed")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,18446744073709551616,deny)", 1, "attributes", "not a decimal byte count")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,signal=XRES)", 1, "attributes", "SIGXRES does not exist on Linux")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,signal=USR1)", 1, "attributes", "not a signal allowed")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,signal=TERM,signal=KILL)", 1, "attributes", "more than one signal")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,explode)", 1, "attributes", "unknown action")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10)", 1, "attributes", "needs privilege,value,action")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,deny", 1, "attributes", "missing ')'")]
    [InlineData("p:1::::project.max-locked-memory=(privileged,10,deny),(privileged,10,deny)", 1, "attributes", "same threshold")]
    [InlineData("p:1::::zone.max-locked-memory=(privileged,10,deny)", 1, "attributes", "zone control")]
    [InlineData("p:1::::a=1;a=2", 1, "attributes", "given twice")]
    [InlineData("p:1::::a=x y", 1, "attributes", "value contains ' '")]
    [InlineData("p:1::::a=1;;b=2", 1, "attributes", "empty attribute")]
    [InlineData("p:1::::\np:2::::", 2, "projname", "already defined on line 1")]
    [InlineData("p:1::::\nq:1::::", 2, "projid", "already used on line 1")]
    [InlineData("p:1::::\n\nq:2::::", 2, "line", "blank line")]
    public void MalformedLineNamesFileLineAndField(string text, int line, string field, string message)
    {
        var e = Assert.Throws<ConfigFileException>(() => ProjectDatabase.Parse(text, "/etc/umem/project"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("/etc/umem/project", error.File);
        Assert.Equal(line, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains($"/etc/umem/project:{line}: {field}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryBadLineIsReportedAndNothingIsReturned()
    {
        string text = "ok:1::::\nbad:x::::\nalso ok:2::::\nfine:3::::project.max-locked-memory=(basic,1,deny)\n";
        var e = Assert.Throws<ConfigFileException>(() => ProjectDatabase.Parse(text, "f"));
        Assert.Equal([(2, "projid"), (3, "projname"), (4, "attributes")], e.Errors.Select(x => (x.Line, x.Field)));
    }

    [Fact]
    public void TrailingNewlinesAndCrLfAreAccepted()
    {
        var db = ProjectDatabase.Parse("a:1::::\r\nb:2::::\r\n\n\n", "f");
        Assert.Equal(2, db.Entries.Length);
    }

    [Fact]
    public void ABadFileIsRefusedWholeOnReload()
    {
        using var files = new TestFiles();
        string path = files.Write("project", "default:3::::project.max-locked-memory=(privileged,4096,deny)\n");
        var registry = ResourceControlRegistry.Load(path, null, UserDatabase.Load());
        Assert.Equal(4096UL, registry.GetProject(3).LockedMemory.Limit);

        // The first line alone would be fine; the second is bad, so neither applies.
        File.WriteAllText(path, "default:3::::project.max-locked-memory=(privileged,8192,deny)\nnew:4::::project.max-locked-memory=(privileged,x,deny)\n");
        var e = Assert.Throws<ConfigFileException>(() => registry.ReloadFiles(path, null));
        Assert.Equal(2, Assert.Single(e.Errors).Line);
        Assert.Equal(4096UL, registry.GetProject(3).LockedMemory.Limit);
        Assert.Null(registry.Projects.FindByName("new"));

        File.WriteAllText(path, "default:3::::project.max-locked-memory=(privileged,8192,deny)\nnew:4::::\n");
        registry.ReloadFiles(path, null);
        Assert.Equal(8192UL, registry.GetProject(3).LockedMemory.Limit);
        Assert.NotNull(registry.FindProject("new"));
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<ConfigFileException>(() => ProjectDatabase.Load("/nonexistent/umem/project"));
        Assert.Contains("/nonexistent/umem/project:0: file:", e.Message, StringComparison.Ordinal);
    }
}
