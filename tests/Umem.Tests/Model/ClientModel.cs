using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Umem.Client;
using Umem.Host;
using Umem.Kernel.Memory;
using Umem.Platform;
using Umem.TestDrivers;
using Umem.Tests.Host;

namespace Umem.Tests.Model;

/// <summary>What a client does in one step of a random sequence; the numbers pick targets and sizes.</summary>
internal enum OpKind
{
    Open,
    Map,
    Unmap,
    DisposeMapping,
    Register,
    Unregister,
    Lock,
    Unlock,
    Realloc,
    Close,
    Disconnect,
    Kill,
}

/// <summary>One step: <paramref name="Kind"/> by client <paramref name="Client"/>; A–D choose among what it holds.</summary>
internal sealed record Op(OpKind Kind, int Client, int A, int B, int C, int D)
{
    public override string ToString() => $"{Kind}(c{Client},{A},{B},{C},{D})";
}

/// <summary>
/// A real Umem in this process (kernel, allocator, resource controls, device host) serving <see cref="ModelDriver"/>,
/// several in-process clients (each <see cref="UmemDevice"/> its own connection, so its own process to the kernel),
/// and a model of what the host must hold after every step: the kernel's mappings and their regions, the driver's
/// opens and locks, the allocator's cookies, bytes, memfds, deferred frees and cache, the locked bytes of the
/// project and the zone, the registered buffers, and the process's descriptors beyond a baseline.
/// </summary>
/// <remarks>
/// The model is deliberately small and written from the documented rules (docs/design.md, docs/protocol.md), not from
/// the code: mmap's EACCES before the driver's ENXIO, close(9E) after the last mapping, ddi_umem_free deferred while
/// mapped, the cache taking only never-granted backing (newest of a shape first, oldest evicted first), the full
/// price model for locks (EFAULT before ENOMEM), LONGTERM locks cleaned up on UNREGISTER, short-term ones kept until
/// the driver unlocks, and a connection's end releasing everything as a process exit does.
/// </remarks>
internal sealed class ClientModel : IAsyncDisposable
{
    internal const int Clients = 3;
    internal const int LimitPages = 4;
    internal const int CachePages = 3;
    private const int ProjectId = 1;
    private static readonly long P = SystemPage.Size;

    private readonly string _directory;
    private readonly UmemSystem _system;
    private readonly ModelDriver _driver;
    private readonly string _path;
    private readonly int _baselineFds;
    private readonly ModelClient[] _clients = [.. Enumerable.Range(0, Clients).Select(_ => new ModelClient())];
    private readonly List<ModelCookie> _cookies = [];
    private readonly List<int> _cache = []; // pages of each cached backing, oldest first
    private readonly List<ModelMapping> _mappings = []; // in creation (= kernel id) order
    private long _nextCookieId, _cacheHits, _cacheEvictions;
    private int _nextLockId;
    private ModelCookie? _external;
    private ulong _usage;

    private ClientModel(string directory, UmemSystem system, ModelDriver driver)
    {
        _directory = directory;
        _system = system;
        _driver = driver;
        _path = system.NodePath(ModelDriver.NodeName);
        _baselineFds = SettledFdCount();
    }

    /// <summary>A new system: project user.root limited to <see cref="LimitPages"/> locked pages, a cache of <see cref="CachePages"/>.</summary>
    internal static ClientModel Start()
    {
        string dir = TestHost.NewDirectory();
        string project = Path.Combine(dir, "project");
        File.WriteAllText(project, $"user.root:{ProjectId}::::project.max-locked-memory=(privileged,{LimitPages * P},deny)\n");
        var system = UmemSystem.Start(new UmemSystemOptions
        {
            Host = new DeviceHostOptions { DeviceDirectory = Path.Combine(dir, "dev") },
            Memory = new UmemAllocatorOptions { CacheBytes = CachePages * P },
            ProjectFile = project,
        });
        var driver = new ModelDriver();
        try
        {
            system.Kernel.ModLoad("model", () => driver);
        }
        catch
        {
            system.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return new ClientModel(dir, system, driver);
    }

    /// <summary>Runs one step against the real system and the model (a step whose target does not exist is skipped).</summary>
    internal void Run(Op op)
    {
        var c = _clients[op.Client];
        switch (op.Kind)
        {
            case OpKind.Open:
                if (c.Connected) return;
                Open(c, op.A == 0 ? FileAccess.Read : FileAccess.ReadWrite);
                break;
            case OpKind.Map:
                if (c.Device is null) return;
                Map(c, op.A % 3, 1 + (op.B % 2), op.C % 2 == 0 ? Prot.ReadWrite : Prot.Read);
                break;
            case OpKind.Unmap:
                {
                    if (c.Mappings.Count == 0) return;
                    var m = c.Mappings[op.C % c.Mappings.Count];
                    int first = op.A % m.Live.Length;
                    Unmap(m, first, 1 + (op.B % (m.Live.Length - first)));
                    break;
                }
            case OpKind.DisposeMapping:
                if (c.Mappings.Count == 0) return;
                DisposeMapping(c.Mappings[op.C % c.Mappings.Count]);
                break;
            case OpKind.Register:
                if (c.Device is null) return;
                Register(c, 1 + (op.A % 3));
                break;
            case OpKind.Unregister:
                if (c.Buffers.Count == 0) return;
                Unregister(c, c.Buffers[op.C % c.Buffers.Count]);
                break;
            case OpKind.Lock:
                if (c.Device is null) return;
                Lock(c, op);
                break;
            case OpKind.Unlock:
                if (c.Device is null) return;
                Unlock(c, op);
                break;
            case OpKind.Realloc:
                if (c.Device is null) return;
                Realloc(c, 1 + (op.A % 4));
                break;
            case OpKind.Close:
                if (c.Device is null) return;
                Close(c);
                break;
            case OpKind.Disconnect:
                while (c.Mappings.Count > 0) DisposeMapping(c.Mappings[^1]);
                while (c.Buffers.Count > 0) Unregister(c, c.Buffers[^1]);
                if (c.Device is not null) Close(c);
                break;
            case OpKind.Kill:
                if (c.Connected) Kill(c);
                break;
        }
    }

    /// <summary>One run first, so that what the runtime opens once (sockets' engines, loaded code) is in the baseline.</summary>
    internal static void Warm()
    {
        var model = Start();
        try
        {
            model.Run(new Op(OpKind.Open, 0, 1, 0, 0, 0));
            model.Run(new Op(OpKind.Map, 0, 0, 1, 0, 0));
            model.Run(new Op(OpKind.Register, 0, 1, 0, 0, 0));
            model.Run(new Op(OpKind.Lock, 0, 0, 0, 0, 0));
            model.Run(new Op(OpKind.Kill, 0, 0, 0, 0, 0));
        }
        finally
        {
            model.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The running system (for a client in another process, which the test drives itself).</summary>
    internal UmemSystem System => _system;

    /// <summary>The node's socket.</summary>
    internal string NodePath => _path;

    // ---- a client in another process (a real child): the model knows it by what it did ------------------------

    /// <summary>The child opened the node: open(9E) allocated its memory.</summary>
    internal void ExternalOpened() => _external = Alloc(ModelDriver.OpenPages);

    /// <summary>The child mapped its memory: the backing was granted (never cached).</summary>
    internal void ExternalMapped() => _external!.Granted = true;

    /// <summary>Whether a lock of <paramref name="pages"/> would fit the project's limit now.</summary>
    internal bool LockFits(int pages) => _usage + (ulong)(pages * P) <= (ulong)(LimitPages * P);

    /// <summary>The child's lock succeeded: its id is the driver's next; the model expects <paramref name="id"/>.</summary>
    internal void ExternalLocked(int id) => Assert.Equal(++_nextLockId, id);

    /// <summary>The child was killed: its connection's end unmapped, closed (close(9E) freed and unlocked) and exited.</summary>
    internal void ExternalKilled()
    {
        Free(_external!);
        _external = null;
    }

    /// <summary>Ends every client abruptly, as if all were killed.</summary>
    internal void KillAll()
    {
        foreach (var c in _clients)
            if (c.Connected) Kill(c);
    }

    // ---- the steps -------------------------------------------------------------------------------------------

    private void Open(ModelClient c, FileAccess access)
    {
        c.Device = UmemDevice.Open(_path, access);
        c.Socket = c.Device.SocketHandle;
        c.Access = access;
        c.DriverOpen = true;
        c.Cookie = Alloc(ModelDriver.OpenPages);
    }

    private void Map(ModelClient c, int offsetPages, int pages, Prot prot)
    {
        // smmap_common first (EACCES: a shared writable mapping of a file not open for writing), then devmap(9E).
        Errno expected = (prot & Prot.Write) != 0 && c.Access == FileAccess.Read ? Errno.EACCES
            : offsetPages + pages > c.Cookie!.Pages ? Errno.ENXIO
            : Errno.None;
        UmemMapping? real = null;
        Expect(expected, () => real = c.Device!.Map(offsetPages * P, pages * P, prot), $"map({offsetPages}, {pages}, {prot})");
        if (real is null) return;
        var m = new ModelMapping(c, real, c.Cookie!, offsetPages, pages);
        m.Cookie.References++;
        m.Cookie.Granted = true;
        c.Mappings.Add(m);
        _mappings.Add(m);
    }

    private void Unmap(ModelMapping m, int first, int pages)
    {
        m.Real.Unmap(first * P, pages * P);
        for (int i = first; i < first + pages; i++) m.Live[i] = false;
        if (m.Live.Any(l => l)) return;
        m.Real.Dispose(); // nothing left: no message
        MappingGone(m);
    }

    private void DisposeMapping(ModelMapping m)
    {
        m.Real.Dispose();
        MappingGone(m);
    }

    private void MappingGone(ModelMapping m)
    {
        m.Client.Mappings.Remove(m);
        _mappings.Remove(m);
        if (--m.Cookie.References == 0 && m.Cookie.Freed) Release(m.Cookie);
        CloseIfLast(m.Client);
    }

    private static void Register(ModelClient c, int pages) =>
        c.Buffers.Add(new ModelBuffer(c.Device!.RegisterBuffer(pages * P), pages));

    private void Unregister(ModelClient c, ModelBuffer b)
    {
        b.Real.Dispose();
        b.Registered = false;
        c.Buffers.Remove(b);
        // LONGTERM locks: the cleanup callback runs (the driver forgets them), then the lock is released.
        foreach (var l in c.Locks.Where(l => l.Buffer == b && l.LongTerm).ToList())
        {
            c.Locks.Remove(l);
            ReleaseLock(l);
        }
    }

    private void Lock(ModelClient c, Op op)
    {
        bool longTerm = op.D >= 4;
        ModelBuffer? target;
        int first, pages;
        Errno expected;
        if (op.A == 2)
        {
            // Another client's buffer: mapped in this address space, but not registered by this process.
            target = _clients.Where(o => o != c).SelectMany(o => o.Buffers).FirstOrDefault();
            if (target is null) return;
            (first, pages, expected) = (0, 1, Errno.EFAULT);
        }
        else
        {
            if (c.Buffers.Count == 0) return;
            target = c.Buffers[op.C % c.Buffers.Count];
            first = op.B % target.Pages;
            pages = op.A == 3 ? target.Pages - first + 1 : 1 + (op.D % 4 % (target.Pages - first));
            // The range must lie in one registered buffer (EFAULT), then the project's limit must admit it.
            expected = op.A == 3 ? Errno.EFAULT : _usage + (ulong)(pages * P) > (ulong)(LimitPages * P) ? Errno.ENOMEM : Errno.None;
        }
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, (ulong)target.Real.Address + (ulong)(first * P));
        BinaryPrimitives.WriteUInt32LittleEndian(input[8..], (uint)(pages * P));
        BinaryPrimitives.WriteUInt32LittleEndian(input[12..], longTerm ? 1u : 0u);
        byte[] inputBytes = input.ToArray();
        UmemIoctlResult result = default;
        Expect(expected, () => result = c.Device!.Ioctl(ModelDriver.IoctlLock, inputBytes, []), $"lock(page {first}, {pages} pages, longterm={longTerm})");
        if (expected != Errno.None) return;
        Assert.Equal(++_nextLockId, result.Rval);
        var l = new ModelLock(result.Rval, target, first, pages, longTerm);
        c.Locks.Add(l);
        for (int p = first; p < first + pages; p++) target.PageLocks[p]++;
        _usage += (ulong)(pages * P);
    }

    private void Unlock(ModelClient c, Op op)
    {
        ModelLock? l = null;
        int id;
        if (op.A == 3)
        {
            // Another process's lock, or none at all: the driver refuses.
            id = _clients.Where(o => o != c).SelectMany(o => o.Locks).FirstOrDefault()?.Id ?? 1_000_000;
        }
        else
        {
            if (c.Locks.Count == 0) return;
            l = c.Locks[op.C % c.Locks.Count];
            id = l.Id;
        }
        byte[] input = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(input, id);
        Expect(l is null ? Errno.EINVAL : Errno.None, () => c.Device!.Ioctl(ModelDriver.IoctlUnlock, input, []), $"unlock({id})");
        if (l is null) return;
        c.Locks.Remove(l);
        ReleaseLock(l);
    }

    private void Realloc(ModelClient c, int pages)
    {
        byte[] input = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(input, pages);
        c.Device!.Ioctl(ModelDriver.IoctlRealloc, input, []);
        Free(c.Cookie!);
        c.Cookie = Alloc(pages);
    }

    private void Close(ModelClient c)
    {
        c.Device!.Dispose();
        c.Device = null;
        CloseIfLast(c);
    }

    private void Kill(ModelClient c)
    {
        // The host reads end of stream, as when the process dies: it unmaps, closes (close(9E) runs) and exits the
        // process (its buffers are unregistered).
        _ = Interop.shutdown((int)c.Socket!.DangerousGetHandle(), Interop.SHUT_RDWR);
        var mappings = c.Mappings.ToList();
        var buffers = c.Buffers.ToList();
        var device = c.Device;
        foreach (var m in mappings)
        {
            c.Mappings.Remove(m);
            _mappings.Remove(m);
            if (--m.Cookie.References == 0 && m.Cookie.Freed) Release(m.Cookie);
        }
        c.Device = null;
        CloseIfLast(c);
        foreach (var b in buffers) b.Registered = false;
        c.Buffers.Clear();
        // The application's side goes too (its requests now fail quietly): nothing of it is left in this process.
        foreach (var m in mappings) m.Real.Dispose();
        foreach (var b in buffers) b.Real.Dispose();
        device?.Dispose();
    }

    private void CloseIfLast(ModelClient c)
    {
        // close(9E) runs once the file is closed and its last mapping is gone: the driver unlocks and frees.
        if (!c.DriverOpen || c.Device is not null || c.Mappings.Count > 0) return;
        c.DriverOpen = false;
        foreach (var l in c.Locks) ReleaseLock(l);
        c.Locks.Clear();
        Free(c.Cookie!);
        c.Cookie = null;
    }

    private void ReleaseLock(ModelLock l)
    {
        _usage -= (ulong)(l.Pages * P);
        for (int p = l.First; p < l.First + l.Pages; p++) l.Buffer.PageLocks[p]--;
    }

    // ---- the allocator's model ------------------------------------------------------------------------------

    private ModelCookie Alloc(int pages)
    {
        int cached = _cache.LastIndexOf(pages); // the newest backing of the shape
        if (cached >= 0)
        {
            _cache.RemoveAt(cached);
            _cacheHits++;
        }
        var cookie = new ModelCookie(++_nextCookieId, pages);
        _cookies.Add(cookie);
        return cookie;
    }

    private void Free(ModelCookie cookie)
    {
        cookie.Freed = true;
        if (cookie.References == 0) Release(cookie);
    }

    private void Release(ModelCookie cookie)
    {
        _cookies.Remove(cookie);
        // Backing a process received is never reused; the rest is cached, the oldest evicted to make room.
        if (cookie.Granted || cookie.Pages > CachePages) return;
        while (_cache.Sum() + cookie.Pages > CachePages)
        {
            _cache.RemoveAt(0);
            _cacheEvictions++;
        }
        _cache.Add(cookie.Pages);
    }

    // ---- comparing ------------------------------------------------------------------------------------------

    /// <summary>The host's state as the model predicts it.</summary>
    internal Snapshot Expected()
    {
        var sb = new StringBuilder();
        foreach (var m in _mappings)
        {
            sb.Append($"[dev {m.OffsetPages}+{m.Live.Length}:");
            for (int i = 0; i < m.Live.Length; i++)
            {
                if (!m.Live[i] || (i > 0 && m.Live[i - 1])) continue;
                int end = i;
                while (end < m.Live.Length && m.Live[end]) end++;
                sb.Append($" {i}+{end - i}@c{m.Cookie.Id}/{m.OffsetPages + i}");
            }
            sb.Append(']');
        }
        var registered = _clients.SelectMany(c => c.Buffers).Where(b => b.Registered).ToList();
        int connections = _clients.Count(c => c.Connected);
        long live = _cookies.Sum(c => (long)c.Pages);
        return new Snapshot(
            Mappings: sb.ToString(),
            DriverOpens: _clients.Count(c => c.DriverOpen),
            DriverLocks: _clients.Sum(c => c.Locks.Count),
            Connections: connections,
            Cookies: _cookies.Count,
            CookieBytes: live * P,
            Memfds: live,
            Deferred: _cookies.Count(c => c.Freed),
            Cached: _cache.Count,
            CachedBytes: _cache.Sum() * P,
            CacheHits: _cacheHits,
            CacheEvictions: _cacheEvictions,
            Allocations: _nextCookieId,
            ProjectLocked: _usage,
            ZoneLocked: _usage,
            ProcessLocked: (long)_usage,
            Buffers: registered.Count,
            BufferLockedBytes: registered.Sum(b => b.PageLocks.Count(n => n > 0)) * P,
            // Both ends of each connection, the memfds of live and cached cookies, each buffer's memfd in its client.
            Fds: (2 * connections) + (int)live + _cache.Sum() + _clients.Sum(c => c.Buffers.Count));
    }

    /// <summary>The host's state as it is.</summary>
    internal Snapshot Actual()
    {
        var sb = new StringBuilder();
        foreach (var m in _system.Kernel.GetMappings())
        {
            sb.Append($"[dev {m.Offset / P}+{m.Length / P}:");
            foreach (var r in m.Regions) sb.Append($" {r.MappingOffset / P}+{r.Length / P}@c{r.CookieId}/{r.KernelOffset / P}");
            sb.Append(']');
        }
        var stats = _system.Allocator.GetStatistics();
        var sessions = _system.Devices.Sessions;
        var buffers = sessions.SelectMany(s => s.Process.Buffers).ToList();
        return new Snapshot(
            Mappings: sb.ToString(),
            DriverOpens: _driver.LiveOpens,
            DriverLocks: _driver.LiveLocks,
            Connections: _system.Devices.ConnectionCount,
            Cookies: stats.PageableCount + stats.LockedCount,
            CookieBytes: stats.TotalBytes,
            Memfds: stats.Memfds,
            Deferred: stats.DeferredCount,
            Cached: stats.CachedCount,
            CachedBytes: stats.CachedBytes,
            CacheHits: stats.CacheHits,
            CacheEvictions: stats.CacheEvictions,
            Allocations: stats.TotalAllocations,
            ProjectLocked: _system.ResourceControls.GetProject(ProjectId).LockedMemory.Usage,
            ZoneLocked: _system.ResourceControls.GetZone(0).LockedMemory.Usage,
            ProcessLocked: sessions.Sum(s => s.Process.LockedBytes),
            Buffers: buffers.Count,
            BufferLockedBytes: buffers.Sum(b => b.LockedBytes),
            Fds: CountFds() - _baselineFds);
    }

    /// <summary>
    /// Asserts that the host reaches the model's state. Most steps are answered before the client goes on; a
    /// whole-mapping dispose (MUNMAP without reply) and a connection's end are finished by the host on its own
    /// time, so the comparison is retried for a while before it fails.
    /// </summary>
    internal void AssertMatches(string after)
    {
        var expected = Expected();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        Snapshot actual;
        while (Normalize(actual = Actual()) != Normalize(expected) && DateTime.UtcNow < deadline) Thread.Sleep(2);
        if (Normalize(actual) != Normalize(expected)) Assert.Fail($"after {after}:\n expected {expected}\n actual   {actual}");
    }

    /// <summary>
    /// The state without the cache's order-dependent split: when a killed client's connection is released on its own
    /// thread while another step frees or allocates, which backing the bounded cache keeps and which it evicts depends
    /// on that order, which the model cannot know. What does not depend on it is compared: backing cached or evicted
    /// in all, and the host's descriptors less those of cached pages (each cached page of the model driver's
    /// page-unit cookies is one memfd).
    /// </summary>
    private static Snapshot Normalize(Snapshot s) => s with
    {
        Cached = s.Cached + s.CacheEvictions,
        CacheEvictions = 0,
        CachedBytes = 0,
        Fds = s.Fds - (int)(s.CachedBytes / SystemPage.Size),
    };


    /// <summary>
    /// The descriptor count once nothing from before is still closing (a child process's pipes close when their
    /// readers see end of file, finalizable handles when the GC runs), so that the baseline holds only what stays.
    /// </summary>
    private static int SettledFdCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int n = CountFds();
        for (int i = 0; i < 50; i++)
        {
            Thread.Sleep(20);
            int again = CountFds();
            if (again == n) return n;
            n = again;
        }
        return n;
    }

    private static int CountFds() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    private static void Expect(Errno expected, Action action, string what)
    {
        Errno got = Errno.None;
        try
        {
            action();
        }
        catch (ErrnoException e)
        {
            got = e.Errno;
        }
        Assert.True(expected == got, $"{what}: expected {expected.Name()}, got {got.Name()}");
        string key = what.Split('(')[0] + ":" + got.Name();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            try
            {
                c.DisposeAll();
            }
            catch (ErrnoException)
            {
                // The run failed half-way; the host releases the rest with the connection.
            }
        }
        await _system.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>The model's and the host's state, compared as a whole (a record: equality is field by field).</summary>
    internal sealed record Snapshot(string Mappings, int DriverOpens, int DriverLocks, int Connections, long Cookies, long CookieBytes,
        long Memfds, long Deferred, long Cached, long CachedBytes, long CacheHits, long CacheEvictions, long Allocations,
        ulong ProjectLocked, ulong ZoneLocked, long ProcessLocked, int Buffers, long BufferLockedBytes, int Fds);

    private sealed class ModelClient
    {
        public UmemDevice? Device { get; set; }
        public SafeHandle? Socket { get; set; }
        public FileAccess Access { get; set; }
        public bool DriverOpen { get; set; }
        public ModelCookie? Cookie { get; set; }
        public List<ModelMapping> Mappings { get; } = [];
        public List<ModelBuffer> Buffers { get; } = [];
        public List<ModelLock> Locks { get; } = [];

        /// <summary>The connection lives while the device or anything made through it does (the library's reference count).</summary>
        public bool Connected => Device is not null || Mappings.Count > 0 || Buffers.Count > 0;

        /// <summary>Releases what the application still holds (after a failed run too).</summary>
        public void DisposeAll()
        {
            foreach (var m in Mappings) m.Real.Dispose();
            foreach (var b in Buffers) b.Real.Dispose();
            Device?.Dispose();
        }
    }

    private sealed class ModelCookie(long id, int pages)
    {
        public long Id { get; } = id;
        public int Pages { get; } = pages;
        public int References { get; set; }
        public bool Freed { get; set; }
        public bool Granted { get; set; }
    }

    private sealed class ModelMapping(ModelClient client, UmemMapping real, ModelCookie cookie, int offsetPages, int pages)
    {
        public ModelClient Client { get; } = client;
        public UmemMapping Real { get; } = real;
        public ModelCookie Cookie { get; } = cookie;
        public int OffsetPages { get; } = offsetPages;
        public bool[] Live { get; } = [.. Enumerable.Repeat(true, pages)];
    }

    private sealed class ModelBuffer(UmemBuffer real, int pages)
    {
        public UmemBuffer Real { get; } = real;
        public int Pages { get; } = pages;
        public bool Registered { get; set; } = true;
        public int[] PageLocks { get; } = new int[pages];
    }

    private sealed record ModelLock(int Id, ModelBuffer Buffer, int First, int Pages, bool LongTerm);
}
