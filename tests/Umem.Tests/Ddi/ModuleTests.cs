using System.Runtime.CompilerServices;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Tests.Ddi;

/// <summary>modload / modunload / modinfo: real assemblies in collectible load contexts, and built-in drivers.</summary>
public sealed class ModuleTests
{
    [Fact]
    public void ModloadOfTheXxAssemblyAttachesInstanceZeroAndPublishesXx0()
    {
        using var t = new TestKernel();
        var added = new List<string>();
        t.Kernel.NodeAdded += (_, e) => added.Add(e.Node.Name);

        var module = t.Kernel.ModLoad(TestDriverPaths.Xx);

        Assert.Equal("xx", module.Name);
        Assert.Equal(ModuleState.Attached, module.State);
        Assert.Equal(TestDriverPaths.Xx, module.Path);
        Assert.Equal(["xx0"], added);
        var info = Assert.Single(t.Kernel.ModInfo());
        Assert.Equal("xx", info.Name);
        Assert.Equal([0], info.Instances);
        var node = Assert.Single(info.Nodes);
        Assert.Equal("xx0", node.Name);
        Assert.Equal(SpecType.Char, node.SpecType);
        Assert.Equal(NodeTypes.Pseudo, node.NodeType);
        Assert.Equal(0u, node.Dev.Minor);
        Assert.Equal(module.Major, node.Dev.Major);
        Assert.Equal((UnixFileMode)0b110_110_110, node.Access.Mode);
        Assert.Equal(0u, node.Access.Uid);
        Assert.Same(t.Kernel.FindNode("xx0"), t.Kernel.FindNode(node.Dev));
        // The driver's Umem.Kernel is the host's: the xx types derive from this Driver.
        Assert.Same(typeof(Driver).Assembly, module.Driver!.GetType().BaseType!.Assembly);
        Assert.NotSame(typeof(Driver).Assembly, module.Driver.GetType().Assembly);
    }

    [Fact]
    public void InstancesComeFromTheModuleOptions()
    {
        using var t = new TestKernel();
        var module = t.Kernel.ModLoad(TestDriverPaths.Xx, new ModuleOptions { Instances = 3 });
        Assert.Equal(["xx0", "xx1", "xx2"], module.Nodes.Select(n => n.Name));
        Assert.Equal([0u, 1u, 2u], module.Nodes.Select(n => n.Minor));
        Assert.Equal([0, 1, 2], module.Instances.Select(d => d.Instance));
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad(TestDriverPaths.Regions, new ModuleOptions { Instances = 0 })).Errno);
    }

    [Fact]
    public void ModloadErrorsNameTheProblem()
    {
        using var t = new TestKernel();
        var missing = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad("/nonexistent/driver.dll"));
        Assert.Equal(Errno.ENOENT, missing.Errno);

        string junk = Path.Combine(Path.GetTempPath(), $"umem-junk-{Guid.NewGuid():N}.dll");
        File.WriteAllText(junk, "this is not an assembly");
        try
        {
            Assert.Equal(Errno.ENOEXEC, Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad(junk)).Errno);
        }
        finally
        {
            File.Delete(junk);
        }

        // An assembly without a driver (Umem.Platform has none).
        var noDriver = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad(typeof(Errno).Assembly.Location));
        Assert.Equal(Errno.ENOEXEC, noDriver.Errno);
        Assert.Contains("no public type deriving", noDriver.Message, StringComparison.Ordinal);

        t.Kernel.ModLoad(TestDriverPaths.Xx);
        var twice = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad(TestDriverPaths.Xx));
        Assert.Equal(Errno.EEXIST, twice.Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => t.Kernel.ModUnload("nosuch")).Errno);

        var ctorThrows = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad("bad", () => throw new InvalidOperationException("boom")));
        Assert.Equal(Errno.ENOEXEC, ctorThrows.Errno);
        Assert.Contains("boom", ctorThrows.Message, StringComparison.Ordinal);
        Assert.Single(t.Kernel.Modules);
    }

    [Fact]
    public void UnloadIsRefusedWhileANodeIsOpenOrMapped()
    {
        using var t = new TestKernel();
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        var file = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.Root64);

        var open = Assert.Throws<ErrnoException>(() => t.Kernel.ModUnload("xx"));
        Assert.Equal(Errno.EBUSY, open.Errno);
        Assert.Contains("1 file(s) open", open.Message, StringComparison.Ordinal);

        var mapping = file.Map(0, SystemPage.Size, Prot.Read | Prot.Write, MapFlags.Shared);
        file.Close(); // the mapping keeps the file (and so the module) busy
        Assert.Equal(FileState.Closing, file.State);
        var mapped = Assert.Throws<ErrnoException>(() => t.Kernel.ModUnload("xx"));
        Assert.Equal(Errno.EBUSY, mapped.Errno);
        Assert.Contains("1 mapping(s)", mapped.Message, StringComparison.Ordinal);
        Assert.Equal(ModuleState.Attached, t.Kernel.FindModule("xx")!.State);
        Assert.NotNull(t.Kernel.FindNode("xx0"));

        mapping.Unmap(0, SystemPage.Size);
        Assert.Equal(FileState.Closed, file.State);
        var report = t.Kernel.ModUnload("xx");
        Assert.Empty(report.Leaks); // xx's detach frees its memory
        Assert.Empty(t.Kernel.Modules);
        Assert.Null(t.Kernel.FindNode("xx0"));
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void OpenDuringDetachIsRefusedAndNodesAreRemovedWithEvents()
    {
        using var t = new TestKernel();
        var removed = new List<string>();
        t.Kernel.NodeRemoved += (_, e) => removed.Add(e.Node.Name);
        ErrnoException? duringDetach = null;
        var driver = new ScriptedDriver("d0") { Pages = 0 };
        driver.OnDetach = dip =>
        {
            duringDetach = Assert.Throws<ErrnoException>(() => t.Kernel.Open("d0", OpenFlags.Read, Creds.Root64));
            return DdiResult.Success;
        };
        t.Load("d", driver);
        t.Kernel.ModUnload("d");
        Assert.Equal(Errno.ENXIO, duringDetach!.Errno);
        Assert.Equal(["d0"], removed); // the framework removes the nodes detach left
        Assert.Equal(1, driver.FiniCalls);
    }

    [Fact]
    public void CollectibleUnloadReallyCollectsTheLoadContext()
    {
        using var t = new TestKernel();
        var weak = LoadUseAndUnload(t);
        for (int i = 0; i < 20 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(weak.IsAlive, "the xx module's load context is still alive after modunload");

        // And the same module loads again, with the same major number (name_to_major).
        var again = t.Kernel.ModLoad(TestDriverPaths.Xx);
        Assert.Equal(UmemKernel.FirstMajor, again.Major);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference LoadUseAndUnload(TestKernel t)
    {
        // Stacks captured at ddi_umem_alloc are kept as text: they must not pin the driver's assembly either.
        var module = t.Kernel.ModLoad(TestDriverPaths.Xx, new ModuleOptions { CaptureAllocationStacks = true });
        Assert.Equal(UmemKernel.FirstMajor, module.Major);
        using (var file = t.Kernel.Open("xx0", OpenFlags.Read | OpenFlags.Write, Creds.Root64))
        {
            using var mapping = file.Map(0, SystemPage.Size, Prot.Read | Prot.Write, MapFlags.Shared);
            using var export = mapping.Export();
        }
        var weak = module.LoadContextReference!;
        t.Kernel.ModUnload("xx");
        Assert.Null(module.Driver);
        return weak;
    }

    [Fact]
    public void UnfreedCookiesAreReportedWithTheirSiteAndReclaimed()
    {
        using var t = new TestKernel();
        ModuleUnloadReport? raised = null;
        t.Kernel.ModuleUnloaded += (_, e) => raised = e.Report;
        var driver = t.Load("leaky", new ScriptedDriver("leaky0") { Pages = 2 }, new ModuleOptions { CaptureAllocationStacks = true });
        driver.OnDetach = _ => DdiResult.Success; // "forgets" ddi_umem_free
        UmemCookie extra = AllocateSomewhere(driver.Ctx);
        Assert.Equal(2, driver.Ctx.Allocator.LiveCount);
        long liveBefore = t.Allocator.GetStatistics().TotalBytes;
        Assert.Equal(3 * SystemPage.Size, liveBefore);

        var report = t.Kernel.ModUnload("leaky");

        Assert.Same(report, raised);
        Assert.Equal(2, report.Leaks.Count);
        var attachLeak = report.Leaks[0];
        Assert.Equal("leaky", attachLeak.Module);
        Assert.Equal(2 * SystemPage.Size, attachLeak.Size);
        Assert.Equal(UmemCookieType.KmemPageable, attachLeak.Type);
        Assert.Equal("Attach", attachLeak.Site.Member);
        Assert.EndsWith("DdiTestSupport.cs", attachLeak.Site.File, StringComparison.Ordinal);
        Assert.NotNull(attachLeak.Site.StackTrace);
        var extraLeak = report.Leaks[1];
        Assert.Equal(extra.Id, extraLeak.CookieId);
        Assert.Equal(nameof(AllocateSomewhere), extraLeak.Site.Member);
        Assert.Contains("ModuleTests.cs", extraLeak.Site.ToString(), StringComparison.Ordinal);
        Assert.Contains(t.Messages, m => m.Level == CeLevel.Warn && m.Text.Contains("was never freed; reclaimed", StringComparison.Ordinal));
        Assert.True(extra.IsFreed);
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }

    private static UmemCookie AllocateSomewhere(DdiContext ctx) => ctx.Allocator.Alloc(SystemPage.Size, UmemFlags.Sleep);

    [Fact]
    public void ModuleAllocatorAccountsAndRefusesForeignOrDoubleFrees()
    {
        using var t = new TestKernel();
        var a = t.Load("a", new ScriptedDriver("a0") { Pages = 0 });
        var b = t.Load("b", new ScriptedDriver("b0") { Pages = 0 });
        var cookie = a.Ctx.Allocator.Alloc(10, UmemFlags.Pageable);
        Assert.Equal(SystemPage.Size, a.Ctx.Allocator.LiveBytes);
        Assert.Throws<ArgumentException>(() => b.Ctx.Allocator.Free(cookie));
        Assert.True(a.Ctx.Allocator.TryAlloc(1, UmemFlags.Pageable, out var second));
        a.Ctx.Allocator.Free(cookie);
        a.Ctx.Allocator.Free(second);
        Assert.Throws<InvalidOperationException>(() => a.Ctx.Allocator.Free(cookie));
        Assert.Equal(2, a.Ctx.Allocator.TotalAllocations);
        Assert.Equal(2, a.Ctx.Allocator.TotalFrees);
        Assert.Equal(0, a.Ctx.Allocator.LiveCount);
        t.Kernel.ModUnload("a");
        Assert.Throws<InvalidOperationException>(() => a.Ctx.Allocator.Alloc(1, UmemFlags.Pageable));
    }

    [Fact]
    public void AFailedAttachUndoesTheLoad()
    {
        using var t = new TestKernel();
        var added = new List<string>();
        t.Kernel.NodeAdded += (_, e) => added.Add(e.Node.Name);
        var driver = new ScriptedDriver("f0") { Pages = 1 };
        int detaches = 0;
        driver.OnAttach = dip =>
        {
            dip.CreateMinorNode($"f{dip.Instance}", SpecType.Char, (uint)dip.Instance, NodeTypes.Pseudo);
            dip.Context.Allocator.Alloc(1, UmemFlags.Pageable);
            return dip.Instance == 1 ? DdiResult.Failure : DdiResult.Success;
        };
        driver.OnDetach = _ =>
        {
            detaches++;
            return DdiResult.Success;
        };

        var e = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad("f", () => driver, new ModuleOptions { Instances = 2 }));
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.Contains("instance 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, detaches); // instance 0 was detached again
        Assert.Empty(added); // nothing was ever published
        Assert.Empty(t.Kernel.Modules);
        Assert.Null(t.Kernel.FindNode("f0"));
        Assert.Equal(0, t.Allocator.GetStatistics().TotalBytes);
    }

    [Fact]
    public void ARefusedDetachKeepsTheModuleAttachedAndReattachesTheOthers()
    {
        using var t = new TestKernel();
        var driver = new ScriptedDriver("r") { Pages = 0 };
        int attaches = 0;
        driver.OnAttach = dip =>
        {
            attaches++;
            return dip.CreateMinorNode($"r{dip.Instance}", SpecType.Char, (uint)dip.Instance, NodeTypes.Pseudo);
        };
        driver.OnDetach = dip => dip.Instance == 0 ? DdiResult.Failure : DdiResult.Success; // instance 0 refuses
        t.Load("r", driver, new ModuleOptions { Instances = 2 });

        var e = Assert.Throws<ErrnoException>(() => t.Kernel.ModUnload("r"));
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.Equal(3, attaches); // instance 1 detached (last first), then came back
        var module = t.Kernel.FindModule("r")!;
        Assert.Equal(ModuleState.Attached, module.State);
        Assert.Equal(["r0", "r1"], module.Nodes.Select(n => n.Name));
        using var file = t.Kernel.Open("r1", OpenFlags.Read, Creds.Root64); // usable again
    }

    [Fact]
    public void MinorNodeNamesAreCheckedAndUniqueInTheHost()
    {
        using var t = new TestKernel();
        var results = new List<DdiResult>();
        var driver = new ScriptedDriver("n") { Pages = 0 };
        driver.OnAttach = dip =>
        {
            results.Add(dip.CreateMinorNode("", SpecType.Char, 1, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode("a/b", SpecType.Char, 2, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode("..", SpecType.Char, 3, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode(new string('x', 65), SpecType.Char, 4, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode("ok", (SpecType)0x1000, 5, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode("ok", SpecType.Char, 6, ""));
            results.Add(dip.CreateMinorNode("ok", SpecType.Char, 7, NodeTypes.Pseudo));
            results.Add(dip.CreateMinorNode("ok", SpecType.Char, 8, NodeTypes.Pseudo)); // same name
            results.Add(dip.CreateMinorNode("other", SpecType.Char, 7, NodeTypes.Pseudo)); // same minor
            return DdiResult.Success;
        };
        t.Load("n", driver);
        Assert.Equal([DdiResult.Failure, DdiResult.Failure, DdiResult.Failure, DdiResult.Failure, DdiResult.Failure,
            DdiResult.Failure, DdiResult.Success, DdiResult.Failure, DdiResult.Failure], results);
        Assert.Equal(8, t.Messages.Count(m => m.Text.StartsWith("ddi_create_minor_node", StringComparison.Ordinal)));

        // Another module cannot take "ok" either.
        var e = Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad("m", () => new ScriptedDriver("ok") { Pages = 0 }));
        Assert.Equal(Errno.ENXIO, e.Errno);
    }

    [Fact]
    public void NodesMadeAfterAttachArePublishedAtOnceAndRemovedOnRequest()
    {
        using var t = new TestKernel();
        var events = new List<string>();
        t.Kernel.NodeAdded += (_, e) => events.Add("+" + e.Node.Name);
        t.Kernel.NodeRemoved += (_, e) => events.Add("-" + e.Node.Name);
        var driver = t.Load("late", new ScriptedDriver("late0") { Pages = 0 });
        Assert.Equal(DdiResult.Success, driver.Dip!.CreateMinorNode("late1", SpecType.Char, 1, NodeTypes.Pseudo));
        Assert.NotNull(t.Kernel.FindNode("late1"));
        driver.Dip.RemoveMinorNode("late1");
        Assert.Null(t.Kernel.FindNode("late1"));
        Assert.Equal(["+late0", "+late1", "-late1"], events);
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => t.Kernel.Open("late1", OpenFlags.Read, Creds.Root64)).Errno);
    }

    [Fact]
    public void AnAttachThatThrowsFailsTheLoadAndIsLogged()
    {
        using var t = new TestKernel();
        var driver = new ScriptedDriver("x0") { OnAttach = _ => throw new InvalidOperationException("attach bug") };
        Assert.Equal(Errno.ENXIO, Assert.Throws<ErrnoException>(() => t.Kernel.ModLoad("x", () => driver)).Errno);
        Assert.Contains(t.Messages, m => m.Module == "x" && m.Text.Contains("attach bug", StringComparison.Ordinal));
        Assert.Empty(t.Kernel.Modules);
    }

    [Fact]
    public void DisposingTheKernelUnmapsClosesAndUnloadsEverything()
    {
        var t = new TestKernel();
        var reports = new List<ModuleUnloadReport>();
        t.Kernel.ModuleUnloaded += (_, e) => reports.Add(e.Report);
        var driver = t.Load("d", new ScriptedDriver("d0") { Pages = 2 });
        t.Kernel.ModLoad(TestDriverPaths.Xx);
        var file = t.Kernel.Open("d0", OpenFlags.Read, Creds.Root64);
        var mapping = file.Map(0, 2 * SystemPage.Size, Prot.Read, MapFlags.Shared);
        var xx = t.Kernel.Open("xx0", OpenFlags.Read, Creds.Root64);

        t.Dispose();

        Assert.Equal(MappingState.Unmapped, mapping.State);
        Assert.Equal(FileState.Closed, file.State);
        Assert.Equal(FileState.Closed, xx.State);
        Assert.Single(driver.Unmaps);
        Assert.Equal(["xx", "d"], reports.Select(r => r.Module)); // last loaded first
        Assert.All(reports, r => Assert.Empty(r.Leaks));
        Assert.Empty(t.Kernel.Modules);
        Assert.Throws<ObjectDisposedException>(() => t.Kernel.ModLoad(TestDriverPaths.Xx));
    }

    [Fact]
    public void PropertiesReachTheDriver()
    {
        using var t = new TestKernel();
        var driver = t.Load("p", new ScriptedDriver("p0") { Pages = 0 }, new ModuleOptions
        {
            Properties = new Dictionary<string, string> { ["size"] = "42", ["name"] = "x", ["bad"] = "4x" },
        });
        Assert.Equal(42, driver.Dip!.GetPropInt("size", 0));
        Assert.Equal(9, driver.Dip.GetPropInt("bad", 9));
        Assert.Equal(9, driver.Dip.GetPropInt("missing", 9));
        Assert.Equal("x", driver.Dip.GetPropString("name"));
        Assert.Equal("42", driver.Ctx.Properties["size"]);
        Assert.Null(driver.Dip.GetPropString("missing"));
        driver.Ctx.CmnErr(CeLevel.Note, "hello");
        Assert.Contains(t.Messages, m => m.Module == "p" && m.Level == CeLevel.Note && m.Text == "hello");
    }
}
