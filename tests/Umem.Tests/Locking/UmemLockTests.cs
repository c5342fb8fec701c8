using Umem.Kernel;
using Umem.Kernel.Locking;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Tests.Locking;

/// <summary>ddi_umem_lock / umem_lockmemory / ddi_umem_unlock over real registered memfd buffers.</summary>
public sealed class UmemLockTests
{
    private static readonly long P = LockTestContext.Page;

    [Fact]
    public void LockMlocksTheApplicationsPagesAndChargesProjectAndZone()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(4 * P);
        Assert.Equal("user.root", ctx.Process.Project.Name);
        Assert.Equal(0, Smaps.LockedBytes(buf.HostAddress, buf.Length));

        using var cookie = UmemLock.Lock(ctx.Process, buf.UserAddress + (ulong)P, 2 * P, UmemLockFlags.Write);
        Assert.Equal(2 * P, Smaps.LockedBytes(buf.HostAddress, buf.Length));
        Assert.Equal(2 * P, buf.LockedBytes);
        Assert.Equal((ulong)(2 * P), ctx.ProjectControl.Usage);
        Assert.Equal((ulong)(2 * P), ctx.ZoneControl.Usage);
        Assert.Equal(2 * P, ctx.Process.LockedBytes);
        Assert.True(cookie.Charge.IsCharged);

        // The cookie reaches the very memory the application has at that address.
        unsafe
        {
            new Span<byte>((byte*)(nint)(buf.UserAddress + (ulong)P), 4).Fill(0x5A);
        }
        Assert.Equal([0x5A, 0x5A, 0x5A, 0x5A], cookie.GetSpan(0, 4).ToArray());
        cookie.GetSpan(P, 1)[0] = 0x77;
        unsafe
        {
            Assert.Equal(0x77, *(byte*)(nint)(buf.UserAddress + (ulong)(2 * P)));
        }

        cookie.Unlock();
        Assert.Equal(0, Smaps.LockedBytes(buf.HostAddress, buf.Length));
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.Equal(0UL, ctx.ZoneControl.Usage);
        Assert.Equal(0, ctx.Process.LockedBytes);
    }

    [Fact]
    public void OverlappingLocksAreChargedTwiceButPagesUnlockOnlyWhenTheLastCookieGoes()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(4 * P);
        var a = UmemLock.Lock(ctx.Process, buf.UserAddress, 3 * P, UmemLockFlags.Read);
        var b = UmemLock.Lock(ctx.Process, buf.UserAddress + (ulong)P, 3 * P, UmemLockFlags.Read | UmemLockFlags.Write);

        // Full price: 3 + 3 pages charged for 4 distinct pages locked.
        Assert.Equal((ulong)(6 * P), ctx.ProjectControl.Usage);
        Assert.Equal(4 * P, Smaps.LockedBytes(buf.HostAddress, buf.Length));
        Assert.Equal([1, 2, 2, 1], Enumerable.Range(0, 4).Select(i => buf.PageLockCount(i)));

        a.Unlock();
        Assert.Equal((ulong)(3 * P), ctx.ProjectControl.Usage);
        Assert.Equal(3 * P, Smaps.LockedBytes(buf.HostAddress + (nint)P, 3 * P));
        Assert.Equal(0, Smaps.LockedBytes(buf.HostAddress, P));

        b.Unlock();
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.Equal(0, Smaps.LockedBytes(buf.HostAddress, buf.Length));
    }

    [Fact]
    public void TwoProcessesOfOneProjectAreBothCharged()
    {
        using var ctx = new LockTestContext();
        using var other = UmemProcess.CreateSelf(ctx.Registry);
        var b1 = ctx.Process.AllocateBuffer(2 * P);
        var b2 = other.AllocateBuffer(2 * P);
        using var c1 = UmemLock.Lock(ctx.Process, b1.UserAddress, 2 * P, UmemLockFlags.Read);
        using var c2 = UmemLock.Lock(other, b2.UserAddress, 2 * P, UmemLockFlags.Read);
        Assert.Same(ctx.Process.Project, other.Project);
        Assert.Equal((ulong)(4 * P), ctx.ProjectControl.Usage);
    }

    [Theory]
    [InlineData(0)]                     // neither READ nor WRITE
    [InlineData(0x04)]                  // LONGTERM alone
    [InlineData(0x05)]                  // LONGTERM is not ddi_umem_lock's
    [InlineData(0x08)]                  // unknown bit
    [InlineData(0x0B)]
    public void BadFlagsAreEINVAL(int flags)
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        var e = Assert.Throws<ErrnoException>(() => UmemLock.Lock(ctx.Process, buf.UserAddress, P, (UmemLockFlags)flags));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.StartsWith("ddi_umem_lock(", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAndWriteTogetherAreAccepted()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        using var c = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.Write);
        Assert.True(c.IsLocked);
    }

    [Fact]
    public void MisalignedOrEmptyRangesAreEINVAL()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(2 * P);
        Assert.Equal(Errno.EINVAL, UmemLock.TryLock(ctx.Process, buf.UserAddress + 1, P, UmemLockFlags.Read, out var c1));
        Assert.Null(c1);
        Assert.Equal(Errno.EINVAL, UmemLock.TryLock(ctx.Process, buf.UserAddress, P + 1, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.EINVAL, UmemLock.TryLock(ctx.Process, buf.UserAddress, 0, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.EINVAL, UmemLock.TryLock(ctx.Process, buf.UserAddress, -P, UmemLockFlags.Read, out _));
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void MemoryThatIsNotThereIsEFAULT()
    {
        using var ctx = new LockTestContext();
        using SafeFd fd1 = MemFd.CreateSealed("t", 2 * P), fd2 = MemFd.CreateSealed("t", 2 * P);
        // Two buffers that touch in the application's address space: a lock must lie inside one of them.
        const ulong Base = 0x7000_0000_0000;
        var b1 = ctx.Process.RegisterBuffer(Base, 2 * P, fd1);
        var b2 = ctx.Process.RegisterBuffer(Base + (ulong)(2 * P), 2 * P, fd2);
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, Base + (ulong)P, 2 * P, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, Base - (ulong)P, P, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, Base + (ulong)(4 * P), P, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, ulong.MaxValue - (ulong)P + 1, P, UmemLockFlags.Read, out _));
        using (var inside = UmemLock.Lock(ctx.Process, Base + (ulong)(3 * P), P, UmemLockFlags.Read))
            Assert.Same(b2, inside.Buffer);

        ctx.Process.UnregisterBuffer(b1.Id);
        var e = Assert.Throws<ErrnoException>(() => UmemLock.Lock(ctx.Process, Base, P, UmemLockFlags.Read));
        Assert.Equal(Errno.EFAULT, e.Errno);
        Assert.Contains("not inside one registered buffer", e.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void ALimitThatDeniesIsENOMEMAndLocksNothing()
    {
        using var ctx = new LockTestContext($"user.root:1::::project.max-locked-memory=(privileged,{2 * P},deny)\n");
        var buf = ctx.Process.AllocateBuffer(4 * P);
        using var held = UmemLock.Lock(ctx.Process, buf.UserAddress, 2 * P, UmemLockFlags.Read);
        var e = Assert.Throws<ErrnoException>(() => UmemLock.Lock(ctx.Process, buf.UserAddress + (ulong)(2 * P), P, UmemLockFlags.Read));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("project.max-locked-memory of project user.root (1)", e.Message, StringComparison.Ordinal);
        Assert.Equal(2 * P, Smaps.LockedBytes(buf.HostAddress, buf.Length));
        Assert.Equal((ulong)(2 * P), ctx.ProjectControl.Usage);
    }

    [Fact]
    public void AZoneLimitThatDeniesIsENOMEM()
    {
        using var ctx = new LockTestContext("user.root:1::::\n", $"global:0::zone.max-locked-memory=(privileged,{P},deny)\n");
        var buf = ctx.Process.AllocateBuffer(2 * P);
        using var held = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
        var e = Assert.Throws<ErrnoException>(() => UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("zone.max-locked-memory of zone global (0)", e.Message, StringComparison.Ordinal);
        Assert.Equal((ulong)P, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void WriteLockOnAReadOnlyBufferIsEACCES()
    {
        using var ctx = new LockTestContext();
        using SafeFd rw = MemFd.CreateSealed("t", P);
        using SafeFd ro = MemFd.ReopenReadOnly(rw);
        var buf = ctx.Process.RegisterBuffer(0x6000_0000_0000, P, ro);
        Assert.False(buf.Writable);
        Assert.Equal(Errno.EACCES, UmemLock.TryLock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Write, out _));
        using var c = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
        Assert.Equal(P, Smaps.LockedBytes(buf.HostAddress, P));
    }

    [Fact]
    public void UnlimitedProjectAndZoneChargeNothingButStillLock()
    {
        using var ctx = new LockTestContext("user.root:1::::\n");
        var buf = ctx.Process.AllocateBuffer(P);
        var c = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
        Assert.False(c.Charge.IsCharged);
        Assert.Equal(P, Smaps.LockedBytes(buf.HostAddress, P));
        Assert.Equal(0UL, ctx.ProjectControl.Usage);

        // A limit set now does not count the earlier lock, and its unlock takes nothing back (the cookie remembers).
        ctx.Registry.SetValue(Cred.Kernel, ctx.Process.Project, RctlValueChange.Replace, new RctlValue(RctlPrivilege.Privileged, (ulong)P));
        using var d = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
        Assert.True(d.Charge.IsCharged);
        c.Unlock();
        Assert.Equal((ulong)P, ctx.ProjectControl.Usage);
        Assert.Equal(P, Smaps.LockedBytes(buf.HostAddress, P));
        d.Unlock();
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void LoweringTheLimitBelowUsageKeepsExistingLocksAndDeniesNewOnes()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(4 * P);
        var held = UmemLock.Lock(ctx.Process, buf.UserAddress, 3 * P, UmemLockFlags.Read);
        ctx.Registry.SetValue(Cred.Kernel, ctx.Process.Project, RctlValueChange.Replace, new RctlValue(RctlPrivilege.Privileged, (ulong)P));
        Assert.True(held.IsLocked);
        Assert.Equal(3 * P, Smaps.LockedBytes(buf.HostAddress, buf.Length));
        Assert.Equal(Errno.ENOMEM, UmemLock.TryLock(ctx.Process, buf.UserAddress + (ulong)(3 * P), P, UmemLockFlags.Read, out _));
        held.Unlock();
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        using var fits = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
    }

    [Fact]
    public void LongTermNeedsACleanupCallbackOfVersion1()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        Assert.Equal(Errno.EINVAL, UmemLock.TryLockMemory(buf.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.LongTerm, null, out _, ctx.Process));
        Assert.Equal(Errno.EINVAL, UmemLock.TryLockMemory(buf.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.LongTerm, new UmemLockCallbacks(null), out _, ctx.Process));
        Assert.Equal(Errno.EINVAL, UmemLock.TryLockMemory(buf.UserAddress, P, UmemLockFlags.Read, new UmemLockCallbacks(_ => { }, 2), out _, ctx.Process));
        Assert.Equal(Errno.EINVAL, UmemLock.TryLockMemory(buf.UserAddress, P, UmemLockFlags.LongTerm, new UmemLockCallbacks(_ => { }), out _, ctx.Process));
        var e = Assert.Throws<ErrnoException>(() => UmemLock.LockMemory(buf.UserAddress, P, UmemLockFlags.Write | UmemLockFlags.LongTerm, null, ctx.Process));
        Assert.StartsWith("umem_lockmemory(", e.Message, StringComparison.Ordinal);
        Assert.Contains("cleanup callback", e.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void LongTermLocksAreCleanedUpWhenTheBufferIsUnregistered()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(2 * P);
        var cleaned = new List<UmemLockCookie>();
        var cookie = UmemLock.LockMemory(buf.UserAddress, 2 * P, UmemLockFlags.Write | UmemLockFlags.LongTerm,
            new UmemLockCallbacks(c =>
            {
                // The memory is still there while the callback runs.
                Assert.True(c.IsLocked);
                cleaned.Add(c);
            }), ctx.Process);
        nint host = buf.HostAddress;
        string? file = MappedFile(host);
        Assert.NotNull(file);
        Assert.Equal(2 * P, Smaps.LockedBytes(host, 2 * P));

        ctx.Process.UnregisterBuffer(buf.Id);
        Assert.Same(cookie, Assert.Single(cleaned));
        Assert.True(cookie.WasForceReleased);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.Equal(0, ctx.Process.LockedBytes);
        Assert.NotEqual(file, MappedFile(host));
        cookie.Unlock();   // the driver's later ddi_umem_unlock is harmless
        Assert.Throws<ObjectDisposedException>(() => cookie.GetSpan(0, 1));
    }

    [Fact]
    public void ACallbackMayUnlockItsCookie()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        int calls = 0;
        var cookie = UmemLock.LockMemory(buf.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.LongTerm,
            new UmemLockCallbacks(c => { calls++; c.Unlock(); }), ctx.Process);
        ctx.Process.UnregisterBuffer(buf.Id);
        Assert.Equal(1, calls);
        Assert.False(cookie.IsLocked);
        Assert.False(cookie.WasForceReleased);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void LongTermLocksAreCleanedUpWhenTheProcessExits()
    {
        var ctx = new LockTestContext();
        var b1 = ctx.Process.AllocateBuffer(P);
        var b2 = ctx.Process.AllocateBuffer(2 * P);
        int calls = 0;
        var callbacks = new UmemLockCallbacks(_ => Interlocked.Increment(ref calls));
        var c1 = UmemLock.LockMemory(b1.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.LongTerm, callbacks, ctx.Process);
        var c2 = UmemLock.LockMemory(b2.UserAddress, 2 * P, UmemLockFlags.Write | UmemLockFlags.LongTerm, callbacks, ctx.Process);
        var c3 = UmemLock.LockMemory(b2.UserAddress, P, UmemLockFlags.Read, callbacks, ctx.Process);   // a callback without LONGTERM runs too
        Assert.Equal((ulong)(4 * P), ctx.ProjectControl.Usage);

        ctx.Process.Dispose();
        Assert.Equal(3, calls);
        Assert.True(c1.WasForceReleased && c2.WasForceReleased && c3.WasForceReleased);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.Equal(0UL, ctx.ZoneControl.Usage);
        Assert.True(ctx.Process.HasExited);
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, b1.UserAddress, P, UmemLockFlags.Read, out _));
        Assert.Equal(Errno.ESRCH, Assert.Throws<ErrnoException>(() => ctx.Process.AllocateBuffer(P)).Errno);
    }

    [Fact]
    public void AThrowingCallbackStillReleasesEverything()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        var cookie = UmemLock.LockMemory(buf.UserAddress, P, UmemLockFlags.Read | UmemLockFlags.LongTerm,
            new UmemLockCallbacks(_ => throw new InvalidOperationException("driver bug")), ctx.Process);
        var e = Assert.Throws<AggregateException>(() => ctx.Process.UnregisterBuffer(buf.Id));
        Assert.Equal("driver bug", e.InnerExceptions.Single().Message);
        Assert.True(cookie.WasForceReleased);
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
    }

    [Fact]
    public void AShortTermLockKeepsItsMemoryUntilUnlockedEvenAfterUnregister()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        var cookie = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Write);
        nint host = buf.HostAddress;
        string? file = MappedFile(host);
        Assert.NotNull(file);
        ctx.Process.UnregisterBuffer(buf.Id);
        Assert.False(buf.IsRegistered);
        Assert.True(cookie.IsLocked);
        cookie.GetSpan(0, 1)[0] = 1;   // still mapped: a driver mid-transfer never faults
        Assert.Equal(P, Smaps.LockedBytes(host, P));
        Assert.Equal((ulong)P, ctx.ProjectControl.Usage);
        Assert.Equal(Errno.EFAULT, UmemLock.TryLock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read, out _));

        cookie.Unlock();
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.NotEqual(file, MappedFile(host));
    }

    [Fact]
    public void UnlockTwiceThrowsDisposeTwiceDoesNot()
    {
        using var ctx = new LockTestContext();
        var buf = ctx.Process.AllocateBuffer(P);
        var c = UmemLock.Lock(ctx.Process, buf.UserAddress, P, UmemLockFlags.Read);
        UmemLock.Unlock(c);
        Assert.Throws<InvalidOperationException>(c.Unlock);
        c.Dispose();
        Assert.Equal(0UL, ctx.ProjectControl.Usage);
        Assert.Equal(0, buf.PageLockCount(0));
    }

    [Fact]
    public void RegisterBufferChecksItsArguments()
    {
        using var ctx = new LockTestContext();
        using SafeFd fd = MemFd.CreateSealed("t", 2 * P);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5000_0000_0001, P, fd)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5000_0000_0000, P + 1, fd)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0, P, fd)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5000_0000_0000, 3 * P, fd)).Errno);
        ctx.Process.RegisterBuffer(0x5000_0000_0000, 2 * P, fd);
        Assert.Contains("overlaps", Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5000_0000_0000 + (ulong)P, P, fd)).Message, StringComparison.Ordinal);

        using SafeFd unsealed = Interop.memfd_create("u", Interop.MFD_CLOEXEC);
        Assert.Equal(0, Interop.ftruncate(unsealed, P));
        var e = Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5100_0000_0000, P, unsealed));
        Assert.Contains("F_SEAL_SHRINK", e.Message, StringComparison.Ordinal);

        using SafeFd regular = new(Interop.open("/etc/passwd", Interop.O_RDONLY | Interop.O_CLOEXEC));
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => ctx.Process.RegisterBuffer(0x5200_0000_0000, P, regular)).Errno);
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => ctx.Process.UnregisterBuffer(999)).Errno);
    }

    [Fact]
    public void CurrentProcessIsTheCallingThreads()
    {
        using var ctx = new LockTestContext();
        using var other = UmemProcess.CreateSelf(ctx.Registry);
        var buf = ctx.Process.AllocateBuffer(P);
        Assert.Null(UmemProcess.Current);
        Assert.Throws<InvalidOperationException>(() => UmemLock.Lock(buf.UserAddress, P, UmemLockFlags.Read));
        using (UmemProcess.Enter(ctx.Process))
        {
            Assert.Same(ctx.Process, UmemProcess.Current);
            using (UmemProcess.Enter(other))
                Assert.Same(other, UmemProcess.Current);
            Assert.Same(ctx.Process, UmemProcess.Current);

            using var c = UmemLock.Lock(buf.UserAddress, P, UmemLockFlags.Read);
            Assert.Same(ctx.Process, c.Process);
            // curproc is the calling thread's (curthread->t_procp): another thread has none.
            UmemProcess? seen = ctx.Process;
            var thread = new Thread(() => seen = UmemProcess.Current);
            thread.Start();
            thread.Join();
            Assert.Null(seen);
            Assert.Same(ctx.Process, UmemProcess.Current);
            using var d = UmemLock.LockMemory(buf.UserAddress, P, UmemLockFlags.Read, null);
            Assert.Same(ctx.Process, d.Process);
        }
        Assert.Null(UmemProcess.Current);
    }

    [Fact]
    public void ExceedingAValueSignalsTheApplicationProcess()
    {
        // The application is a real child; its memory is registered in-process. Its lock beyond the limit is
        // denied with ENOMEM and it receives the value's SIGTERM.
        using var child = ChildProcess.StartReady("exec");
        var registry = new ResourceControlRegistry(
            ProjectDatabase.Parse($"default:3::::project.max-locked-memory=(privileged,{P},deny,signal=TERM)\n", "p"), null, UserDatabase.Load());
        using var app = new UmemProcess(registry, new Cred(child.Pid, 65534, 65534, DataModel.LP64, 3, 0));
        var buf = app.AllocateBuffer(2 * P);
        using var ok = UmemLock.Lock(app, buf.UserAddress, P, UmemLockFlags.Read);
        Assert.Equal(Errno.ENOMEM, UmemLock.TryLock(app, buf.UserAddress + (ulong)P, P, UmemLockFlags.Read, out _));
        Assert.Equal(128 + 15, child.WaitForExit()); // killed by SIGTERM
    }

    /// <summary>
    /// The device and inode of what maps <paramref name="address"/> here (null when nothing does). Other tests run in
    /// parallel and may map something new at an address just freed, so "unmapped" means: no longer this file.
    /// </summary>
    private static string? MappedFile(nint address)
    {
        ulong a = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            ulong lo = ulong.Parse(line.AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            ulong hi = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (a < lo || a >= hi) continue;
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries); // range perms offset dev inode [path]
            return fields[3] + " " + fields[4];
        }
        return null;
    }
}
