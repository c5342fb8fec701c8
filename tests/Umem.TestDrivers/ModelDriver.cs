using System.Buffers.Binary;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

namespace Umem.TestDrivers;

/// <summary>
/// The driver the random-client model test (tests/Umem.Tests/Model) runs against: state per process, so every
/// client action has an effect a model can predict. open(9E) gives the opening process (curproc) memory of its own
/// (<see cref="OpenPages"/> pages, one memfd per page); devmap(9E) exports [off, off+len) of that memory in one
/// handle (ENXIO beyond it); close(9E) frees it and unlocks every lock the process still holds through the driver.
/// Locks outlive the ioctl that made them, until <see cref="IoctlUnlock"/>, close(9E), or (LONGTERM) the cleanup
/// callback when the memory goes away.
/// </summary>
/// <remarks>One open per process is assumed (the host makes a process per connection).</remarks>
public sealed class ModelDriver : Driver, IDevmap, IIoctl
{
    /// <summary>The node's name.</summary>
    public const string NodeName = "model0";

    /// <summary>Pages open(9E) allocates for the process.</summary>
    public const int OpenPages = 2;

    /// <summary>
    /// ioctl: in = u64 user address, u32 length, u32 longterm (0: ddi_umem_lock READ|WRITE; 1: umem_lockmemory
    /// READ|WRITE|LONGTERM with a cleanup callback); rval = the lock's id. The lock stays until unlocked.
    /// </summary>
    public const int IoctlLock = 1;

    /// <summary>ioctl: in = i32 lock id: ddi_umem_unlock of a lock this process made (EINVAL for any other id).</summary>
    public const int IoctlUnlock = 2;

    /// <summary>
    /// ioctl: in = i32 pages: ddi_umem_free of the process's memory (deferred while mapped) and ddi_umem_alloc of
    /// new memory of that many pages; later mappings see the new memory.
    /// </summary>
    public const int IoctlRealloc = 3;

    private readonly Lock _gate = new();
    private readonly Dictionary<UmemProcess, PerProcess> _processes = [];
    private readonly Dictionary<int, (UmemProcess Owner, UmemLockCookie Cookie)> _locks = [];
    private DevInfo? _dip;
    private int _nextLock;

    private sealed class PerProcess(UmemCookie cookie)
    {
        public UmemCookie Cookie { get; set; } = cookie;
    }

    /// <summary>Processes whose open(9E) ran and whose close(9E) has not.</summary>
    public int LiveOpens
    {
        get
        {
            lock (_gate) return _processes.Count;
        }
    }

    /// <summary>Locks the driver holds now (made and neither unlocked nor cleaned up).</summary>
    public int LiveLocks
    {
        get
        {
            lock (_gate) return _locks.Count;
        }
    }

    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach) return DdiResult.Failure;
        _dip = dip;
        return dip.CreateMinorNode(NodeName, SpecType.Char, 0, NodeTypes.Pseudo, NodeAccess.FromOctal("0666"));
    }

    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd) => DdiResult.Success;

    protected override Errno Open(ref DevT devp, OpenFlags flag, OpenType otyp, Cred credp)
    {
        var curproc = UmemProcess.Current;
        if (curproc is null) return Errno.ENXIO;
        // Page grant units: any page range of the memory can be exported on its own.
        var cookie = _dip!.Context.Allocator.Alloc(Ptob(OpenPages), UmemFlags.Sleep | UmemFlags.Pageable, grantPages: 1);
        lock (_gate) _processes.Add(curproc, new PerProcess(cookie));
        return Errno.None;
    }

    protected override Errno Close(DevT dev, OpenFlags flag, OpenType otyp, Cred credp)
    {
        var curproc = UmemProcess.Current;
        if (curproc is null) return Errno.ENXIO;
        PerProcess? state;
        List<UmemLockCookie> locks;
        lock (_gate)
        {
            if (!_processes.Remove(curproc, out state)) return Errno.ENXIO;
            locks = [.. _locks.Where(l => l.Value.Owner == curproc).Select(l => l.Value.Cookie)];
            foreach (var id in _locks.Where(l => l.Value.Owner == curproc).Select(l => l.Key).ToList()) _locks.Remove(id);
        }
        foreach (var cookie in locks) UmemLock.Unlock(cookie); // a force-released one: nothing to do
        _dip!.Context.Allocator.Free(state.Cookie);
        return Errno.None;
    }

    public Errno Devmap(DevT dev, DevmapHandle dhp, long off, long len, out long maplen, DataModel model)
    {
        maplen = 0;
        var curproc = UmemProcess.Current;
        UmemCookie cookie;
        lock (_gate)
        {
            if (curproc is null || !_processes.TryGetValue(curproc, out var state)) return Errno.ENXIO;
            cookie = state.Cookie;
        }
        if (off < 0 || len <= 0 || off >= cookie.Size || len > cookie.Size - off) return Errno.ENXIO;
        if (DevmapUmemSetup(dhp, null, null, cookie, off, len, Prot.All | Prot.User, DevmapFlags.Defaults, null) != DdiResult.Success)
            return Errno.ENXIO;
        maplen = len;
        return Errno.None;
    }

    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        var curproc = UmemProcess.Current;
        if (curproc is null) return Errno.ENXIO;
        switch (cmd)
        {
            case IoctlLock:
                {
                    Span<byte> input = stackalloc byte[16];
                    if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                    ulong address = BinaryPrimitives.ReadUInt64LittleEndian(input);
                    long length = BinaryPrimitives.ReadUInt32LittleEndian(input[8..]);
                    bool longTerm = BinaryPrimitives.ReadUInt32LittleEndian(input[12..]) != 0;
                    const UmemLockFlags rw = UmemLockFlags.Read | UmemLockFlags.Write;
                    Errno e = longTerm
                        ? UmemLock.TryLockMemory(address, length, rw | UmemLockFlags.LongTerm, new UmemLockCallbacks(Cleanup), out var cookie, curproc)
                        : UmemLock.TryLock(curproc, address, length, rw, out cookie);
                    if (e != Errno.None) return e;
                    lock (_gate)
                    {
                        rval = ++_nextLock;
                        _locks.Add(rval, (curproc, cookie!));
                    }
                    return Errno.None;
                }
            case IoctlUnlock:
                {
                    Span<byte> input = stackalloc byte[4];
                    if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                    int id = BinaryPrimitives.ReadInt32LittleEndian(input);
                    UmemLockCookie cookie;
                    lock (_gate)
                    {
                        if (!_locks.TryGetValue(id, out var l) || l.Owner != curproc) return Errno.EINVAL;
                        _locks.Remove(id);
                        cookie = l.Cookie;
                    }
                    UmemLock.Unlock(cookie);
                    return Errno.None;
                }
            case IoctlRealloc:
                {
                    Span<byte> input = stackalloc byte[4];
                    if (arg.CopyIn(input) != 0) return Errno.EFAULT;
                    int pages = BinaryPrimitives.ReadInt32LittleEndian(input);
                    if (pages is <= 0 or > 64) return Errno.EINVAL;
                    PerProcess? state;
                    lock (_gate)
                    {
                        if (!_processes.TryGetValue(curproc, out state)) return Errno.ENXIO;
                    }
                    // ddi_umem_free while mapped: the old memory stays until the last mapping of it goes.
                    _dip!.Context.Allocator.Free(state.Cookie);
                    state.Cookie = _dip.Context.Allocator.Alloc(Ptob(pages), UmemFlags.Sleep | UmemFlags.Pageable, grantPages: 1);
                    return Errno.None;
                }
            default:
                return Errno.ENOTTY;
        }
    }

    /// <summary>The LONGTERM cleanup callback: the memory went away; the framework releases the lock after this.</summary>
    private void Cleanup(UmemLockCookie cookie)
    {
        lock (_gate)
        {
            foreach (var (id, l) in _locks)
            {
                if (l.Cookie != cookie) continue;
                _locks.Remove(id);
                return;
            }
        }
    }
}
