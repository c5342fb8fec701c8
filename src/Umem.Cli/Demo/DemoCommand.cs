using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Spectre.Console;
using Umem.Cli.Commands;
using Umem.Host;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Cli.Demo;

/// <summary>
/// <c>umem demo</c>: the seed's example made real. An embedded host loads the <c>xx</c> driver; 64-bit C# and C
/// applications and 32-bit C applications (natively or under qemu-i386) map its device, post greetings on the
/// shared page with atomic operations and read each other's; then the demo shows who mapped which page, what each
/// saw, the host's view of every mapping and the resource controls, and unloads the driver with no leaks.
/// </summary>
internal static class DemoCommand
{
    internal static Command Create()
    {
        var timeout = CliOptions.Int("--timeout-ms", "How long applications wait for each other (default 30000).", 1, int.MaxValue);
        var report = new Option<string?>("--report") { Description = "Also write the checks as JSON to this file." };
        var command = new Command("demo", "Run the host, the seed's xx driver and several 64- and 32-bit applications sharing its memory.")
        {
            timeout, report,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(timeout) ?? 30_000, parse.GetValue(report), ct));
        return command;
    }

    private static async Task<int> RunAsync(int timeoutMs, string? reportPath, CancellationToken ct)
    {
        if (timeoutMs <= 0)
        {
            Console.Error.WriteLine("umem demo: --timeout-ms must be positive");
            return ExitCodes.Usage;
        }
        // Ctrl+C and SIGTERM: stop at the next step and clean up (the applications, the directory), whatever moment
        // the signal lands, rather than leave it to the command line's handler.
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        ct = interrupt.Token;
        var checks = new List<DemoCheck>();
        int page = SystemPage.Size;
        string tmp = Directory.CreateTempSubdirectory("umem-demo-").FullName;
        var apps = new List<DemoApp>();
        bool interrupted = false;
        try
        {
            AnsiConsole.MarkupLine("[bold]umem demo[/]: the xx driver of [italic]Writing Device Drivers[/], examples 10-4 and 10-5");
            var (cDir, cMissing) = NativeClients.FindSources();
            var native = NativeClients.Build(cDir, cMissing);
            ct.ThrowIfCancellationRequested();
            await using var system = UmemSystem.Start(new UmemSystemOptions { Host = { DeviceDirectory = Path.Combine(tmp, "dev") } });
            var module = system.Load(DriverPaths.Resolve("xx"));
            string node = system.NodePath("xx0");
            checks.Add(new("xx loaded, xx0 published", File.Exists(node), node));
            // Plain, not through Spectre: a path is never wrapped (Spectre folds redirected output at 80 columns).
            Console.WriteLine($"host pid {Environment.ProcessId}: loaded {module.Name}, serving {node}");

            // Who runs: two C# and two C applications (one of them unmodified) in 64 bits; two C applications in 32 bits where possible.
            var plan = new List<(string Label, string Lang, int Bits, string File, string[] Args)>();
            var (self, selfArgs) = SelfCommand();
            plan.Add(("csharp-1", "C#", 64, self, [.. selfArgs, "greet", node, "csharp-1"]));
            plan.Add(("csharp-2", "C#", 64, self, [.. selfArgs, "greet", node, "csharp-2"]));
            if (native.Greet64 is { } g64) plan.Add(("c64", "C", 64, g64, [node, "c64"]));
            else AnsiConsole.MarkupLine($"[yellow]64-bit C application skipped:[/] {Markup.Escape(native.Problem64!)}");
            // The same greeter built without any Umem header: open(2) and mmap(2) of the node, through the preload.
            if (native.Plain64 is { } plain) plan.Add(("plain64", "C unmodified, LD_PRELOAD", 64, "env", [$"LD_PRELOAD={plain.Preload}", plain.Program, node, "plain64"]));
            string how32 = native.How32();
            if (native.Greet32 is { } g32)
            {
                plan.Add(("c32-1", "C", 32, "bash", [native.RunScript, g32, node, "c32-1"]));
                plan.Add(("c32-2", "C", 32, "bash", [native.RunScript, g32, node, "c32-2"]));
            }
            else
            {
                AnsiConsole.MarkupLine($"[yellow]32-bit applications skipped:[/] {Markup.Escape(native.Problem32!)}");
            }
            int expect64 = plan.Count(p => p.Bits == 64), expect32 = plan.Count(p => p.Bits == 32);
            foreach (var p in plan)
            {
                // The C programs take "DEVICE NAME EXPECT TIMEOUT_MS"; so does `umem greet`.
                int expect = p.Bits == 64 ? expect64 : expect32;
                apps.Add(DemoApp.Start(p.Label, p.Lang, p.Bits, p.File, [.. p.Args, expect.ToString(), timeoutMs.ToString()]));
            }

            // Every application posts, reads the others', reports, and holds its mapping until released.
            using (var waitAll = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                waitAll.CancelAfter(timeoutMs + 15000);
                try
                {
                    await Task.WhenAll(apps.Select(a => a.Reported)).WaitAsync(waitAll.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // reported below as failed checks
                }
            }

            // The host's view while every application holds its mapping.
            var mappings = system.Kernel.GetMappings();
            var board64 = ReadBoard(system.Kernel, DataModel.LP64, page);
            var board32 = ReadBoard(system.Kernel, DataModel.ILP32, page);

            ct.ThrowIfCancellationRequested();
            foreach (var app in apps) await app.ReleaseAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

            // Applications' own reports.
            foreach (var app in apps)
            {
                bool ok = app.ExitCode == 0 && app.SelfBits == app.ExpectedBits;
                checks.Add(new($"{app.Label} ({app.Language}, {app.ExpectedBits}-bit) ran and saw its group", ok,
                    ok ? $"pid {app.Pid}, slot {app.Slot}" : $"exit {app.ExitCode}, bits {app.SelfBits}: {app.Stderr.Trim()}"));
            }
            foreach (var bits in new[] { 64, 32 })
            {
                var group = apps.Where(a => a.ExpectedBits == bits).ToList();
                if (group.Count == 0) continue;
                var pids = group.Select(a => a.Pid).ToHashSet();
                bool ok = group.All(a => a.Seen.Select(s => s.Pid).ToHashSet().SetEquals(pids) && a.Seen.All(s => s.Bits == bits));
                checks.Add(new($"{bits}-bit applications share one page, and only with each other", ok,
                    string.Join("; ", group.Select(a => $"{a.Label} saw {string.Join(",", a.Seen.Select(s => s.Pid))}"))));
            }

            // The host's own view: the model comes from the kernel, and xx redirected ILP32 to page 1.
            foreach (var app in apps.Where(a => a.Pid != 0))
            {
                var mine = mappings.Where(m => m.Cred.Pid == app.Pid).ToList();
                var expectModel = app.ExpectedBits == 64 ? DataModel.LP64 : DataModel.ILP32;
                long expectKoff = app.ExpectedBits == 64 ? 0 : page;
                bool ok = mine.Count == 1 && mine[0].Cred.Model == expectModel
                    && mine[0].Regions.All(r => r.KernelOffset == expectKoff);
                checks.Add(new($"host saw {app.Label} as {expectModel} and gave it page {expectKoff / page}", ok,
                    string.Join("; ", mine.Select(m => $"{m.Cred.Model}, koff {string.Join(",", m.Regions.Select(r => r.KernelOffset))}"))));
            }
            checks.Add(new("the driver's page 0 holds the 64-bit greetings, page 1 the 32-bit ones",
                board64.Select(g => g.Pid).ToHashSet().SetEquals(apps.Where(a => a.ExpectedBits == 64).Select(a => a.Pid))
                && board32.Select(g => g.Pid).ToHashSet().SetEquals(apps.Where(a => a.ExpectedBits == 32).Select(a => a.Pid)),
                $"page 0: {board64.Count} greetings, page 1: {board32.Count}"));

            // Everything an application held is released when it goes.
            bool released = await WaitUntil(() => system.Kernel.GetMappings().Count == 0, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            checks.Add(new("every mapping released when its application exited", released, $"{system.Kernel.GetMappings().Count} left"));
            var projects = mappings.Select(m => m.Cred.ProjectId).Distinct().Select(system.ResourceControls.GetProject).ToList();
            var zones = mappings.Select(m => m.Cred.ZoneId).Distinct().Select(system.ResourceControls.GetZone).ToList();
            checks.Add(new("locked-memory usage is zero", projects.Concat(zones).All(e => e.LockedMemory.Usage == 0),
                string.Join(", ", projects.Concat(zones).Select(e => $"{e}: {e.LockedMemory.Usage} B"))));

            var unload = system.Unload("xx");
            var stats = system.Allocator.GetStatistics();
            checks.Add(new("xx unloaded with no leaks", unload.Leaks.Count == 0, string.Join("; ", unload.Leaks)));
            checks.Add(new("driver memory back to zero", stats.TotalBytes == 0, $"{stats.TotalBytes} bytes live, peak {stats.PeakBytes}"));

            Render(apps, mappings, board64, board32, projects, zones, checks, how32, page);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (Exception e) when (e is ErrnoException or IOException or InvalidOperationException)
        {
            checks.Add(new("demo ran", false, e.Message));
            AnsiConsole.MarkupLine($"[red]umem demo: {Markup.Escape(e.Message)}[/]");
        }
        finally
        {
            // Also on Ctrl+C: the applications (and what they started) go with the demo, and so does its directory.
            foreach (var a in apps) a.Dispose();
            try
            {
                Directory.Delete(tmp, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        if (interrupted)
        {
            Console.Error.WriteLine("umem demo: interrupted; the applications were stopped and the host's directory removed");
            return 130; // 128 + SIGINT, as a shell reports it
        }
        if (reportPath is not null)
            await File.WriteAllTextAsync(reportPath, JsonSerializer.Serialize(checks.Select(c => new { c.Name, c.Passed, c.Detail })), ct).ConfigureAwait(false);
        bool all = checks.Count > 0 && checks.All(c => c.Passed);
        AnsiConsole.MarkupLine(all ? $"[green]all {checks.Count} checks held[/]" : $"[red]{checks.Count(c => !c.Passed)} of {checks.Count} checks failed[/]");
        return all ? ExitCodes.Success : ExitCodes.Failure;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupt.Cancel();
        }
    }

    /// <summary>How to start this program again as a child (`umem greet ...`).</summary>
    private static (string File, string[] Args) SelfCommand()
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(exe) == "dotnet"
            ? (exe, [typeof(DemoCommand).Assembly.Location])
            : (exe, []);
    }

    /// <summary>The page the xx driver gives an application of <paramref name="model"/>, read through the framework.</summary>
    private static List<Greeting> ReadBoard(UmemKernel kernel, DataModel model, int page)
    {
        var cred = Cred.Kernel with { Model = model };
        using var file = kernel.Open("xx0", OpenFlags.Read, cred);
        using var mapping = file.Map(0, page, Prot.Read, MapFlags.Shared);
        var seg = mapping.GetSegments()[0];
        using var view = MappedRegion.MapShared(seg.Fd, seg.FdOffset, page, writable: false);
        return new GreetingBoard(view.Address).ReadAll();
    }

    private static async Task<bool> WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(20).ConfigureAwait(false);
        }
        return true;
    }

    private static void Render(List<DemoApp> apps, IReadOnlyList<MappingInfo> mappings, List<Greeting> board64, List<Greeting> board32,
        List<Kernel.ResourceControls.RctlEntity> projects, List<Kernel.ResourceControls.RctlEntity> zones, List<DemoCheck> checks, string how32, int page)
    {
        var t = new Table().Title("Applications").AddColumns("label", "pid", "language", "model (own)", "slot", "saw greetings of pids");
        foreach (var a in apps)
        {
            string run = a.ExpectedBits == 32 ? $" ({how32})" : "";
            t.AddRow(a.Label, a.Pid.ToString(), a.Language + run, $"{a.SelfBits}-bit", a.Slot.ToString(),
                string.Join(", ", a.Seen.Select(s => s.Pid)));
        }
        AnsiConsole.Write(t);

        var m = new Table().Title("Host view: every mapping of xx0").AddColumns("id", "pid", "uid", "model", "project", "zone", "bytes", "prot", "xx page / maxprot");
        foreach (var x in mappings)
        {
            m.AddRow(x.Id.ToString(), x.Cred.Pid.ToString(), x.Cred.Uid.ToString(), x.Cred.Model.ToString(), x.Cred.ProjectId.ToString(),
                x.Cred.ZoneId.ToString(), x.Length.ToString(), x.Prot.ToLetters(),
                string.Join("; ", x.Regions.Select(r => $"{r.KernelOffset / page} / {r.MaxProt.ToLetters()}")));
        }
        AnsiConsole.Write(m);

        var b = new Table().Title("The driver's memory (xx cookie, 2 pages)").AddColumns("page", "slot", "pid", "bits", "greeting");
        foreach (var (pageNo, board) in new[] { (0, board64), (1, board32) })
            foreach (var g in board) b.AddRow(pageNo.ToString(), g.Slot.ToString(), g.Pid.ToString(), g.ModelBits.ToString(), Markup.Escape(g.Text));
        AnsiConsole.Write(b);

        var r = new Table().Title("Resource controls (locked memory)").AddColumns("entity", "control", "usage", "limit");
        foreach (var e in projects.Concat(zones))
        {
            var c = e.LockedMemory;
            r.AddRow(Markup.Escape(e.ToString()), c.Definition.Name, $"{c.Usage} B", c.IsUnlimited ? "unlimited" : $"{c.Limit} B");
        }
        AnsiConsole.Write(r);

        var k = new Table().Title("Checks").AddColumns("", "check", "detail");
        foreach (var c in checks) k.AddRow(c.Passed ? "[green]ok[/]" : "[red]FAIL[/]", Markup.Escape(c.Name), Markup.Escape(c.Detail));
        AnsiConsole.Write(k);
    }
}
