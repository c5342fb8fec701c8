using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Kernel.Modules;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.Tests.Ddi;

/// <summary>Where the test output keeps the driver modules the test project builds (see Umem.Tests.csproj).</summary>
internal static class TestDriverPaths
{
    internal static string Xx => Find("xx", "Umem.Drivers.Xx.dll");

    internal static string Regions => Find("regions", "Umem.TestDrivers.dll");

    internal static string Ring => Find("ring", "Umem.Drivers.Ring.dll");

    internal static string Lockmem => Find("lockmem", "Umem.Drivers.Lockmem.dll");

    internal static string Scale => Find("scale", "Umem.Bench.ScaleDriver.dll");

    private static string Find(string dir, string file)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "drivers", dir, file);
        Assert.True(File.Exists(path), $"driver module {path} is missing: the test project copies it there after building it");
        return path;
    }
}

/// <summary>Requesters as the host would describe them.</summary>
internal static class Creds
{
    internal static Cred Root64 { get; } = new(1000, 0, 0, DataModel.LP64);

    internal static Cred Root32 { get; } = new(1001, 0, 0, DataModel.ILP32);

    internal static Cred User(uint uid, uint gid, DataModel model = DataModel.LP64) => new(2000 + (int)uid, uid, gid, model, ProjectId: 3, ZoneId: 0);
}

/// <summary>A kernel over its own allocator; disposing shuts both down.</summary>
internal sealed class TestKernel : IDisposable
{
    internal TestKernel(UmemAllocatorOptions? options = null)
    {
        Allocator = new UmemAllocator(options ?? new UmemAllocatorOptions { Name = "umem-test", CacheBytes = 0 });
        Kernel = new UmemKernel(Allocator);
        Kernel.Message += (_, e) =>
        {
            lock (Messages) Messages.Add(e.Message);
        };
    }

    internal UmemAllocator Allocator { get; }

    internal UmemKernel Kernel { get; }

    internal List<DdiMessage> Messages { get; } = [];

    internal string AllMessages()
    {
        lock (Messages) return string.Join('\n', Messages);
    }

    /// <summary>Loads <paramref name="driver"/> as a built-in module named <paramref name="name"/>.</summary>
    internal T Load<T>(string name, T driver, ModuleOptions? options = null) where T : Driver
    {
        Kernel.ModLoad(name, () => driver, options);
        return driver;
    }

    public void Dispose()
    {
        Kernel.Dispose();
        Allocator.Dispose();
    }
}

/// <summary>One devmap_unmap(9E) call as the driver saw it.</summary>
internal sealed record UnmapCall(DevmapHandle Dhp, object? Pvtp, long Off, long Len, DevmapHandle? NewDhp1, object? NewPvtp1In, DevmapHandle? NewDhp2, object? NewPvtp2In);

/// <summary>One devmap_map(9E) call.</summary>
internal sealed record MapCall(DevmapHandle Dhp, DevT Dev, MapFlags Flags, long Off, long Len);

internal delegate Errno DevmapScript(ScriptedDriver driver, DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model);

/// <summary>
/// A built-in test driver whose entry points a test scripts. By default: attach allocates <see cref="Pages"/> pages
/// (pageable, <see cref="GrantPages"/> per memfd) and creates node <see cref="NodeName"/> (0666); devmap exports the
/// requested range of that memory as one handle with recording callbacks.
/// </summary>
internal class ScriptedDriver : Driver, IDevmap, IIoctl, IChpoll
{
    private readonly Lock _gate = new();

    internal ScriptedDriver(string nodeName = "t0") => NodeName = nodeName;

    internal string NodeName { get; }

    internal int Pages { get; init; } = 4;

    internal int GrantPages { get; init; } = 1;

    internal string NodeMode { get; init; } = "0666";

    internal uint NodeUid { get; init; }

    internal uint NodeGid { get; init; }

    internal UmemCookie? Cookie { get; set; }

    internal DevInfo? Dip { get; private set; }

    internal DdiContext Ctx => Context;

    internal Func<DevInfo, DdiResult>? OnAttach { get; set; }

    internal Func<DevInfo, DdiResult>? OnDetach { get; set; }

    internal DevmapScript? OnDevmap { get; set; }

    internal Func<DevT, OpenFlags, Cred, Errno>? OnOpen { get; set; }

    internal Func<DevT, OpenFlags, Cred, Errno>? OnClose { get; set; }

    internal DevmapMapCallback? MapCallback { get; set; }

    internal DevmapUnmapCallback? UnmapCallback { get; set; }

    internal DevmapAccessCallback? AccessCallback { get; set; }

    /// <summary>What the unmap callback assigns to new_pvtp1/new_pvtp2 (null: leave as is).</summary>
    internal Func<UnmapCall, (object? P1, object? P2)>? UnmapAssigns { get; set; }

    internal List<MapCall> Maps { get; } = [];

    internal List<UnmapCall> Unmaps { get; } = [];

    internal List<(DevT Dev, OpenFlags Flags, Cred Cred)> Closes { get; } = [];

    internal List<DataModel> DevmapModels { get; } = [];

    internal PollHead PollHead { get; } = new();

    internal PollEvents Ready { get; set; }

    internal int FiniCalls { get; private set; }

    /// <summary>The callbacks every default export uses: recording map/unmap.</summary>
    internal DevmapCallbacks Callbacks => new()
    {
        Map = MapCallback ?? RecordMap,
        Unmap = UnmapCallback ?? RecordUnmap,
        Access = AccessCallback,
    };

    protected internal override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        Dip = dip;
        if (OnAttach is { } a) return a(dip);
        if (Pages > 0) Cookie = dip.Context.Allocator.Alloc(Ptob(Pages), UmemFlags.Pageable, GrantPages);
        return dip.CreateMinorNode(NodeName, SpecType.Char, (uint)dip.Instance, NodeTypes.Pseudo,
            NodeAccess.FromOctal(NodeMode, NodeUid, NodeGid));
    }

    protected internal override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (OnDetach is { } d) return d(dip);
        if (Cookie is { IsFreed: false } c) dip.Context.Allocator.Free(c);
        Cookie = null;
        return DdiResult.Success;
    }

    protected internal override void Fini() => FiniCalls++;

    /// <summary>When set, open(9E) clones: it returns this device number instead of the node's.</summary>
    internal DevT? CloneTo { get; set; }

    protected internal override Errno Open(ref DevT devp, OpenFlags flag, OpenType otyp, Cred credp)
    {
        if (CloneTo is { } clone) devp = clone;
        return OnOpen?.Invoke(devp, flag, credp) ?? Errno.None;
    }

    protected internal override Errno Close(DevT dev, OpenFlags flag, OpenType otyp, Cred credp)
    {
        lock (_gate) Closes.Add((dev, flag, credp));
        return OnClose?.Invoke(dev, flag, credp) ?? Errno.None;
    }

    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        lock (_gate) DevmapModels.Add(model);
        if (OnDevmap is { } script) return script(this, dev, dhp, off, len, out maplen, model);
        maplen = len;
        return DevmapUmemSetup(dhp, Dip, Callbacks, Cookie, off, len, Prot.All, DevmapFlags.Defaults, null) == DdiResult.Success
            ? Errno.None : Errno.ENXIO;
    }

    /// <summary>ioctl 1: echo the input, rval = its length; 2: return EPERM; 3: copy out more than fits (EFAULT).</summary>
    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        switch (cmd)
        {
            case 1:
                byte[] data = new byte[arg.Input.Length];
                if (arg.CopyIn(data) != 0) return Errno.EFAULT;
                if (arg.CopyOut(data) != 0) return Errno.EFAULT;
                rval = data.Length | (int)(mode & OpenFlags.Models);
                return Errno.None;
            case 2:
                return Errno.EPERM;
            case 3:
                return arg.CopyOut(new byte[arg.OutputCapacity + 1]) == 0 ? Errno.None : Errno.EFAULT;
            default:
                return Errno.ENOTTY;
        }
    }

    public Errno Chpoll(DevT dev, PollEvents events, bool anyYet, out PollEvents revents, out PollHead? pollHead)
    {
        revents = Ready & events;
        pollHead = revents == PollEvents.None && !anyYet ? PollHead : null;
        return Errno.None;
    }

    internal Errno RecordMap(DevmapHandle dhp, DevT dev, MapFlags flags, long off, long len, out object? pvtp)
    {
        lock (_gate) Maps.Add(new MapCall(dhp, dev, flags, off, len));
        pvtp = $"pvt@{off:x}";
        return Errno.None;
    }

    internal void RecordUnmap(DevmapHandle dhp, object? pvtp, long off, long len,
        DevmapHandle? newDhp1, ref object? newPvtp1, DevmapHandle? newDhp2, ref object? newPvtp2)
    {
        var call = new UnmapCall(dhp, pvtp, off, len, newDhp1, newPvtp1, newDhp2, newPvtp2);
        lock (_gate) Unmaps.Add(call);
        if (UnmapAssigns is { } assign)
        {
            var (p1, p2) = assign(call);
            if (p1 is not null) newPvtp1 = p1;
            if (p2 is not null) newPvtp2 = p2;
        }
    }
}

/// <summary>A scripted driver that also has its own segmap(9E).</summary>
internal sealed class ScriptedSegmapDriver(string nodeName = "s0") : ScriptedDriver(nodeName), ISegmap
{
    internal Func<ScriptedSegmapDriver, DevT, long, MapTarget, long, Prot, Prot, MapFlags, Cred, Errno>? OnSegmap { get; set; }

    internal List<DataModel> SegmapModels { get; } = [];

    public Errno Segmap(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred)
    {
        lock (SegmapModels) SegmapModels.Add(MmapGetModel());
        return OnSegmap?.Invoke(this, dev, off, target, len, prot, maxprot, flags, cred)
            ?? DevmapSegmap(dev, off, target, len, prot, maxprot, flags, cred);
    }
}

/// <summary>A driver with neither segmap(9E) nor devmap(9E), ioctl nor chpoll.</summary>
internal sealed class PlainDriver(string nodeName = "p0") : Driver
{
    protected internal override DdiResult Attach(DevInfo dip, AttachCommand cmd) =>
        dip.CreateMinorNode(nodeName, SpecType.Char, 0, NodeTypes.Pseudo, NodeAccess.FromOctal("0666"));

    protected internal override DdiResult Detach(DevInfo dip, DetachCommand cmd) => DdiResult.Success;
}

/// <summary>mmap of an exported segment in this process, as a client would map it.</summary>
internal static class ClientMap
{
    internal static MappedRegion Map(ExportedSegment segment, bool write) =>
        MappedRegion.MapShared(segment.Fd, segment.FdOffset, segment.Length,
            Interop.PROT_READ | (write ? Interop.PROT_WRITE : 0));

    internal static unsafe Span<byte> Span(MappedRegion region) => new((void*)region.Address, (int)region.Length);
}
