using System.Buffers.Binary;
using System.Collections.Concurrent;
using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Platform;
using static Umem.Kernel.Ddi.Sunddi;

[assembly: UmemDriver(typeof(Umem.Drivers.Lockmem.LockmemDriver), "lockmem")]

namespace Umem.Drivers.Lockmem;

/// <summary>
/// The sample driver <c>lockmem</c>: an application registers a buffer, and the driver locks ranges of it for
/// "device access" with ddi_umem_lock(9F) (umem_lockmemory for LONGTERM locks), charged to the caller's
/// project.max-locked-memory, and reports that project's usage. Each open is a clone minor that owns its locks;
/// close(9E) unlocks whatever the open still holds, so a killed application leaves nothing locked.
/// </summary>
public sealed class LockmemDriver : Driver, IIoctl
{
    private const uint NodeMinor = 0;

    private readonly ConcurrentDictionary<uint, LockmemOpen> _opens = new();
    private DevInfo? _dip;
    private int _nextMinor;

    /// <summary>attach(9E): node "lockmem0", mode 0666 (a single instance).</summary>
    protected override DdiResult Attach(DevInfo dip, AttachCommand cmd)
    {
        if (cmd != AttachCommand.Attach || dip.Instance != 0) return DdiResult.Failure;
        if (dip.CreateMinorNode("lockmem0", SpecType.Char, NodeMinor, NodeTypes.Pseudo,
                NodeAccess.FromOctal("0666")) != DdiResult.Success)
            return DdiResult.Failure;
        _dip = dip;
        dip.ReportDev();
        return DdiResult.Success;
    }

    /// <summary>detach(9E): no open remains (the framework refuses modunload while one does).</summary>
    protected override DdiResult Detach(DevInfo dip, DetachCommand cmd)
    {
        if (cmd != DetachCommand.Detach || !_opens.IsEmpty) return DdiResult.Failure;
        dip.RemoveMinorNode(null);
        _dip = null;
        return DdiResult.Success;
    }

    /// <summary>open(9E): a clone open; every open gets its own minor number and so its own set of locks.</summary>
    protected override Errno Open(ref DevT devp, OpenFlags flag, OpenType otyp, Cred credp)
    {
        if (GetMinor(devp) != NodeMinor) return Errno.ENXIO;
        uint minor = (uint)Interlocked.Increment(ref _nextMinor);
        _opens[minor] = new LockmemOpen();
        devp = MakeDevice(GetMajor(devp), minor);
        return Errno.None;
    }

    /// <summary>close(9E): ddi_umem_unlock(9F) every lock the open still holds, returning its charge.</summary>
    protected override Errno Close(DevT dev, OpenFlags flag, OpenType otyp, Cred credp)
    {
        if (!_opens.TryRemove(GetMinor(dev), out var open)) return Errno.ENXIO;
        foreach (var cookie in open.TakeAll()) cookie.Unlock();   // a force-released cookie unlocks as a no-op
        return Errno.None;
    }

    /// <summary>ioctl(9E): LOCK, UNLOCK and USAGE (see <see cref="LockmemIoctl"/>).</summary>
    public Errno Ioctl(DevT dev, int cmd, ref IoctlBuffer arg, OpenFlags mode, Cred cred, out int rval)
    {
        rval = 0;
        if (!_opens.TryGetValue(GetMinor(dev), out var open)) return Errno.ENXIO;
        // The ioctl runs for the calling application: its process is curproc (the host sets it per request).
        var process = UmemProcess.Current;
        if (process is null) return Errno.EINVAL;
        return cmd switch
        {
            LockmemIoctl.Lock => DoLock(open, process, ref arg, out rval),
            LockmemIoctl.Unlock => DoUnlock(open, ref arg),
            LockmemIoctl.Usage => DoUsage(process, ref arg),
            _ => Errno.ENOTTY,
        };
    }

    private Errno DoLock(LockmemOpen open, UmemProcess process, ref IoctlBuffer arg, out int rval)
    {
        rval = 0;
        // ddi_copyin(9F): a short argument is EFAULT.
        Span<byte> input = stackalloc byte[LockmemIoctl.LockInputSize];
        if (arg.CopyIn(input) != 0) return Errno.EFAULT;
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(input);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(input[8..]);
        var flags = (UmemLockFlags)BinaryPrimitives.ReadUInt32LittleEndian(input[16..]);
        if (length > long.MaxValue) return Errno.EINVAL;

        Errno e;
        UmemLockCookie? cookie;
        if ((flags & UmemLockFlags.LongTerm) != 0)
        {
            // umem_lockmemory with DDI_UMEMLOCK_LONGTERM: the cleanup callback runs if the memory goes away under
            // the lock (the buffer is unregistered or the process exits); the driver forgets the lock then.
            var callbacks = new UmemLockCallbacks(c =>
            {
                open.Remove(c);
                c.Unlock();
            });
            e = UmemLock.TryLockMemory(address, (long)length, flags, callbacks, out cookie, process);
        }
        else
        {
            // ddi_umem_lock(9F): charged to the caller's project and zone, full price per lock.
            e = UmemLock.TryLock(process, address, (long)length, flags, out cookie);
        }
        if (e != Errno.None) return e;
        rval = open.Add(cookie!);
        return Errno.None;
    }

    private static Errno DoUnlock(LockmemOpen open, ref IoctlBuffer arg)
    {
        Span<byte> input = stackalloc byte[4];
        if (arg.CopyIn(input) != 0) return Errno.EFAULT;
        int index = BinaryPrimitives.ReadInt32LittleEndian(input);
        // ddi_umem_unlock(9F) of a lock this open does not hold is the caller's error, not a crash.
        var cookie = open.Take(index);
        if (cookie is null) return Errno.EINVAL;
        cookie.Unlock();
        return Errno.None;
    }

    private static Errno DoUsage(UmemProcess process, ref IoctlBuffer arg)
    {
        // project.max-locked-memory of the caller's project (resource_controls(5)): what ddi_umem_lock charges.
        var control = process.Project.LockedMemory;
        Span<byte> output = stackalloc byte[LockmemIoctl.UsageOutputSize];
        BinaryPrimitives.WriteUInt64LittleEndian(output, control.Usage);
        BinaryPrimitives.WriteUInt64LittleEndian(output[8..], control.Limit);
        // ddi_copyout(9F): no room for the answer is EFAULT.
        return arg.CopyOut(output) == 0 ? Errno.None : Errno.EFAULT;
    }
}
