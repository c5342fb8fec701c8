using Microsoft.Win32.SafeHandles;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Kernel.Locking;

/// <summary>
/// An application process as the Umem kernel sees it (its <c>proc_t</c>): who it is (a <see cref="Cred"/> with
/// its project and zone) and the memory it registered, known by the application's own virtual addresses.
/// Drivers lock that memory with <see cref="UmemLock"/>. Disposing the process is its exit: every buffer goes
/// away and LONGTERM locks are cleaned up.
/// </summary>
public sealed class UmemProcess : IDisposable
{
    // curproc is the calling thread's (curthread->t_procp): an entry point runs on one thread, and a thread-static
    // costs no allocation per call, where an AsyncLocal allocates an execution context at every change.
    [ThreadStatic]
    private static UmemProcess? t_current;

    private readonly Lock _tableLock = new();
    private RegisteredBuffer[] _buffers = [];
    private long _nextBufferId;
    private long _lockedBytes;
    private bool _exited;

    /// <summary>A process with an already resolved credential (its project and zone ids are used as given).</summary>
    public UmemProcess(ResourceControlRegistry registry, Cred cred)
    {
        Registry = registry;
        Cred = cred;
        Project = registry.GetProject(cred.ProjectId);
        Zone = registry.GetZone(cred.ZoneId);
    }

    /// <summary>
    /// A process whose project (getdefaultproj, or an explicit <paramref name="project"/> it must be a member
    /// of) and zone (the zones file's rules) are resolved from its uid, gid and pid.
    /// </summary>
    public static UmemProcess Create(ResourceControlRegistry registry, int pid, uint uid, uint gid,
        DataModel model = DataModel.LP64, string? project = null) =>
        new(registry, registry.CreateCred(pid, uid, gid, model, project));

    /// <summary>The host process itself as an application (for in-process use and tests).</summary>
    public static UmemProcess CreateSelf(ResourceControlRegistry registry, string? project = null)
    {
        var (uid, gid) = ProcStatus.ReadIds(Environment.ProcessId);
        return Create(registry, Environment.ProcessId, uid, gid, DataModel.LP64, project);
    }

    /// <summary>
    /// The process an entry point runs for (curproc). The framework sets it on the calling thread around driver
    /// calls with <see cref="Enter"/>; null outside one, and on any other thread (as curproc is a thread's).
    /// </summary>
    public static UmemProcess? Current => t_current;

    /// <summary>
    /// Makes <paramref name="process"/> current until the scope is disposed; with null, leaves the current process
    /// as it is (an in-process requester that is no application).
    /// </summary>
    internal static CurrentScope EnterIfAny(UmemProcess? process) =>
        process is null ? new CurrentScope(t_current) : Enter(process);

    /// <summary>Makes <paramref name="process"/> current until the scope is disposed.</summary>
    public static CurrentScope Enter(UmemProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var previous = t_current;
        t_current = process;
        return new CurrentScope(previous);
    }

    public ResourceControlRegistry Registry { get; }

    /// <summary>Pid, uid, gid, data model, project and zone.</summary>
    public Cred Cred { get; }

    /// <summary>The project charged for this process's locked memory.</summary>
    public RctlEntity Project { get; }

    /// <summary>The zone charged for this process's locked memory.</summary>
    public RctlEntity Zone { get; }

    /// <summary>
    /// The most this process may have locked through the host while its project has no administrator's
    /// project.max-locked-memory entry: its own RLIMIT_MEMLOCK, so the host never locks more for a client than the
    /// client could lock itself. A project entry (raising or lowering it) replaces it, as on illumos. Unlimited
    /// (<see cref="long.MaxValue"/>) for a process created in the host.
    /// </summary>
    public long LockedMemoryLimit { get; init; } = long.MaxValue;

    /// <summary>Bytes currently locked through cookies of this process (p_locked_mem, counted whether or not charged).</summary>
    public long LockedBytes => Interlocked.Read(ref _lockedBytes);

    /// <summary>True once disposed.</summary>
    public bool HasExited
    {
        get
        {
            lock (_tableLock) return _exited;
        }
    }

    /// <summary>The registered buffers, by user address.</summary>
    public IReadOnlyList<RegisteredBuffer> Buffers => Volatile.Read(ref _buffers);

    /// <summary>
    /// Registers application memory (the REGISTER request): <paramref name="memfd"/> is mapped by the
    /// application at <paramref name="userAddress"/> for <paramref name="length"/> bytes; the host maps it too
    /// (MAP_SHARED; read-only when the fd is). Page-aligned, non-zero, not overlapping another buffer, and the
    /// memfd must be sealed against shrinking (else the host could fault on it) and at least
    /// <paramref name="length"/> long: EINVAL otherwise. The caller keeps ownership of <paramref name="memfd"/>.
    /// </summary>
    public RegisteredBuffer RegisterBuffer(ulong userAddress, long length, SafeFd memfd) =>
        RegisterCore(userAddress, length, memfd, application: null);

    /// <summary>
    /// For in-process use and tests: creates a sealed memfd of <paramref name="length"/> bytes, maps it as "the
    /// application's" memory, and registers it at that address. Unregistering unmaps both mappings.
    /// </summary>
    public RegisteredBuffer AllocateBuffer(long length)
    {
        if (length <= 0 || !SystemPage.IsAligned(length))
            throw new ErrnoException(Errno.EINVAL, $"AllocateBuffer({length})", "length must be a positive multiple of the page size");
        using SafeFd fd = MemFd.CreateSealed("umem-appbuf", length);
        var app = MappedRegion.MapShared(fd, 0, length, writable: true);
        try
        {
            return RegisterCore((ulong)app.Address, length, fd, app);
        }
        catch
        {
            app.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Unregisters a buffer (the UNREGISTER request): no new locks on it; every lock with a cleanup callback has
    /// the callback run and is then released. Locks without a callback keep the memory (and their charge) until
    /// the driver unlocks them, as an unmap waits for a short-term lock in illumos. EBADF for an unknown id.
    /// </summary>
    public void UnregisterBuffer(long id)
    {
        RegisteredBuffer? buffer;
        lock (_tableLock)
        {
            buffer = Array.Find(_buffers, b => b.Id == id);
            if (buffer is null)
                throw new ErrnoException(Errno.EBADF, $"UnregisterBuffer({id})", $"pid {Cred.Pid} has no buffer {id}");
            Volatile.Write(ref _buffers, [.. _buffers.Where(b => b != buffer)]);
        }
        CleanUp([buffer]);
    }

    /// <summary>The registered buffer with id <paramref name="id"/>, or null.</summary>
    public RegisteredBuffer? FindBuffer(long id) => Array.Find(Volatile.Read(ref _buffers), b => b.Id == id);

    /// <summary>The buffer that holds all of [address, address+length), or null.</summary>
    internal RegisteredBuffer? FindBuffer(ulong address, ulong length)
    {
        var buffers = Volatile.Read(ref _buffers);
        int lo = 0, hi = buffers.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var b = buffers[mid];
            if (address < b.UserAddress) hi = mid - 1;
            else if (address - b.UserAddress >= (ulong)b.Length) lo = mid + 1;
            else return b.Contains(address, length) ? b : null;
        }
        return null;
    }

    /// <summary>Counts <paramref name="bytes"/> more as locked unless that would pass <paramref name="limit"/>.</summary>
    internal bool TryAddLockedBytes(long bytes, long limit)
    {
        long after = Interlocked.Add(ref _lockedBytes, bytes);
        if (after <= limit && after >= 0) return true;
        Interlocked.Add(ref _lockedBytes, -bytes);
        return false;
    }

    internal void RemoveLockedBytes(long bytes) => Interlocked.Add(ref _lockedBytes, -bytes);

    /// <summary>
    /// The process exits: every buffer is unregistered, LONGTERM locks run their cleanup callbacks and are
    /// released. If callbacks threw, everything is still cleaned up and then an AggregateException is thrown.
    /// </summary>
    public void Dispose()
    {
        RegisteredBuffer[] buffers;
        lock (_tableLock)
        {
            if (_exited) return;
            _exited = true;
            buffers = _buffers;
            Volatile.Write(ref _buffers, []);
        }
        CleanUp(buffers);
    }

    public override string ToString() => $"process {Cred.Pid} ({Cred})";

    private RegisteredBuffer RegisterCore(ulong userAddress, long length, SafeFd memfd, MappedRegion? application)
    {
        string call = $"RegisterBuffer(0x{userAddress:x}, {length}, {memfd})";
        if (length <= 0 || !SystemPage.IsAligned(length) || !SystemPage.IsAligned((long)(userAddress & long.MaxValue)) || userAddress == 0)
            throw new ErrnoException(Errno.EINVAL, call, "address and length must be non-zero multiples of the page size");
        if (userAddress + (ulong)length < userAddress)
            throw new ErrnoException(Errno.EINVAL, call, "range wraps around the address space");

        Errno notMemfd = MemFd.TryIsSealedAgainstShrinking(memfd, out bool sealedAgainstShrinking);
        if (notMemfd != Errno.None)
            throw new ErrnoException(notMemfd, call, "not a memfd (F_GET_SEALS failed)");
        if (!sealedAgainstShrinking)
            throw new ErrnoException(Errno.EINVAL, call, "memfd is not sealed against shrinking (F_SEAL_SHRINK)");
        long size = RandomAccess.GetLength(new SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false));
        if (size < length)
            throw new ErrnoException(Errno.EINVAL, call, $"memfd holds {size} bytes, fewer than {length}");
        bool writable = MemFd.IsReadWrite(memfd);

        lock (_tableLock)
        {
            if (_exited)
                throw new ErrnoException(Errno.ESRCH, call, $"pid {Cred.Pid} has exited");
            if (Array.Find(_buffers, b => b.Overlaps(userAddress, (ulong)length)) is { } other)
                throw new ErrnoException(Errno.EINVAL, call, $"overlaps {other}");
            var host = MappedRegion.MapShared(memfd, 0, length, writable);
            try
            {
                var buffer = new RegisteredBuffer(this, ++_nextBufferId, userAddress, length, host, writable, application);
                Volatile.Write(ref _buffers, [.. _buffers.Append(buffer).OrderBy(b => b.UserAddress)]);
                return buffer;
            }
            catch
            {
                host.Dispose(); // nothing half-registered keeps the host's mapping
                throw;
            }
        }
    }

    private static void CleanUp(IEnumerable<RegisteredBuffer> buffers)
    {
        List<Exception>? failures = null;
        foreach (var buffer in buffers)
        {
            var cookies = buffer.Unregister();
            if (cookies is null) continue;
            foreach (var cookie in cookies)
            {
                // umem_lock_undo: the driver's cleanup callback runs first (it may unlock the cookie itself);
                // whatever it leaves locked is released here, so the memory and the charge always come back.
                try
                {
                    cookie.Callbacks!.LockCleanup?.Invoke(cookie);
                }
                catch (Exception e)
                {
                    (failures ??= []).Add(e);
                }
                cookie.ForceRelease();
            }
        }
        if (failures is not null)
            throw new AggregateException("umem lock cleanup callbacks failed (the locks were released anyway)", failures);
    }

    /// <summary>Restores the previous <see cref="Current"/> when disposed.</summary>
    public readonly struct CurrentScope : IDisposable
    {
        private readonly UmemProcess? _previous;

        internal CurrentScope(UmemProcess? previous) => _previous = previous;

        public void Dispose() => t_current = _previous;
    }
}
