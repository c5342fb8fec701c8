using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Tests.ResourceControls;

/// <summary>getdefaultproj() and inproj() over the machine's real /etc/passwd and /etc/group.</summary>
public sealed class ProjectResolutionTests
{
    private const uint Root = 0;
    private const uint Nobody = 65534;

    private static ResourceControlRegistry Registry(string projects, UserDatabase? users = null) =>
        new(ProjectDatabase.Parse(projects, "test.project"), null, users ?? UserDatabase.Load());

    [Fact]
    public void TheMachineHasRootAndNobody()
    {
        var users = UserDatabase.Load();
        Assert.Equal("root", users.FindUser(Root)!.Name);
        Assert.Equal("root", users.FindGroup(users.FindUser(Root)!.Gid)!.Name);
        Assert.Equal(Nobody, users.FindUser("nobody")!.Uid);
    }

    [Fact]
    public void RootJoinsUserRootInTheShippedFile()
    {
        var r = ResourceControlRegistry.Load(ResourceControlFiles.ShippedProjectFile, null);
        Assert.Equal("user.root", r.ResolveProject(Root, 0).Name);
        Assert.Equal(1, r.CreateCred(Environment.ProcessId, Root, 0, Umem.Kernel.DataModel.LP64).ProjectId);
    }

    [Fact]
    public void NobodyFallsBackToDefault()
    {
        var r = ResourceControlRegistry.Load(ResourceControlFiles.ShippedProjectFile, null);
        Assert.Equal("default", r.ResolveProject(Nobody, Nobody).Name);
    }

    [Fact]
    public void UserProjectComesBeforeGroupProjectBeforeDefault()
    {
        var users = UserDatabase.Load();
        string nobodyGroup = users.FindGroup(users.FindUser(Nobody)!.Gid)!.Name;
        string all = $"default:3::::\ngroup.{nobodyGroup}:20::::\nuser.nobody:21::::\n";
        Assert.Equal("user.nobody", Registry(all).ResolveProject(Nobody, Nobody).Name);
        Assert.Equal($"group.{nobodyGroup}", Registry($"default:3::::\ngroup.{nobodyGroup}:20::::\n").ResolveProject(Nobody, Nobody).Name);
        Assert.Equal("default", Registry("default:3::::\n").ResolveProject(Nobody, Nobody).Name);
    }

    [Fact]
    public void ThePrimaryGroupComesFromPasswdNotTheProcess()
    {
        // getdefaultproj uses pw_gid: root running with gid 65534 still gets group.root.
        var r = Registry("default:3::::\ngroup.root:20::::\n");
        Assert.Equal("group.root", r.ResolveProject(Root, Nobody).Name);
    }

    [Fact]
    public void ExclusionSkipsADefaultProject()
    {
        var r = Registry("default:3::::\nuser.nobody:21::!nobody::\n");
        Assert.Equal("default", r.ResolveProject(Nobody, Nobody).Name);
        var none = Registry("default:3::!*::\n");
        var e = Assert.Throws<ErrnoException>(() => none.ResolveProject(Nobody, Nobody));
        Assert.Equal(Errno.ESRCH, e.Errno);
        Assert.Contains("user.nobody", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoDefaultProjectIsESRCH()
    {
        var e = Assert.Throws<ErrnoException>(() => Registry("system:0::::\n").ResolveProject(Nobody, Nobody));
        Assert.Equal(Errno.ESRCH, e.Errno);
    }

    [Fact]
    public void UnknownUidGetsDefault()
    {
        Assert.Equal("default", Registry("default:3::::\n").ResolveProject(4000000, 4000000).Name);
    }

    [Fact]
    public void ExplicitProjectNeedsMembership()
    {
        var r = Registry("default:3::::\nbuild:100::root::\nshared:101::*::\nnone:102::::\n");
        Assert.Equal("build", r.ResolveProject(Root, 0, "build").Name);
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => r.ResolveProject(Nobody, Nobody, "build")).Errno);
        Assert.Equal("shared", r.ResolveProject(Nobody, Nobody, "101").Name);
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => r.ResolveProject(Root, 0, "none")).Errno);
        Assert.Equal("default", r.ResolveProject(Nobody, Nobody, "default").Name);
        Assert.Equal(Errno.ESRCH, Assert.Throws<ErrnoException>(() => r.ResolveProject(Root, 0, "nosuch")).Errno);
    }

    [Fact]
    public void GroupListAdmitsByPrimaryAndSupplementaryGroup()
    {
        var users = UserDatabase.Parse(
            "alice:x:2001:3001::/:/bin/sh\nbob:x:2002:3002::/:/bin/sh\ncarol:x:2003:3002::/:/bin/sh\n",
            "alicegrp:x:3001:\nbobgrp:x:3002:\ndev:x:3003:bob\n");
        var r = Registry("default:3::::\ndevs:100:::dev:\nalices:101:::alicegrp:\nnotcarol:102::!carol:bobgrp:\n", users);
        Assert.Equal("devs", r.ResolveProject(2002, 3002, "devs").Name);        // bob is listed in group dev
        Assert.Throws<ErrnoException>(() => r.ResolveProject(2001, 3001, "devs"));
        Assert.Equal("alices", r.ResolveProject(2001, 3001, "alices").Name);    // alice's primary group
        Assert.Equal("notcarol", r.ResolveProject(2002, 3002, "notcarol").Name);
        Assert.Throws<ErrnoException>(() => r.ResolveProject(2003, 3002, "notcarol")); // excluded by name
    }

    [Fact]
    public void RealChildProcessesAreResolvedFromProc()
    {
        // A child running as nobody (setpriv) and this process as root, placed from /proc/PID/status.
        using var child = ChildProcess.StartReady("exec setpriv --reuid=65534 --regid=65534 --clear-groups");
        var r = ResourceControlRegistry.Load(ResourceControlFiles.ShippedProjectFile, null);
        var entities = r.FindProcess(child.Pid);
        Assert.Equal("default", entities[0].Name);
        Assert.Equal("global", entities[1].Name);
        Assert.Equal("user.root", r.FindProcess(Environment.ProcessId)[0].Name);
    }
}
