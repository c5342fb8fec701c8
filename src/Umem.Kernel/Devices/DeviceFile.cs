using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// An open device node: what open(2) returns. Runs the driver's entry points for its owner: mmap (segmap(9E) and
/// devmap(9E)), ioctl(9E), read(9E)/write(9E) (DeviceFile.ReadWrite.cs), chpoll(9E), and close(9E) when the file is closed and its last mapping is gone (as
/// specfs calls close only after the last unmap). Thread-safe.
/// </summary>
public sealed partial class DeviceFile : IDisposable
{
    private static readonly Dictionary<FileState, FileState[]> s_transitions = new()
    {
        [FileState.Open] = [FileState.Mapped, FileState.Closing, FileState.Closed],
        [FileState.Mapped] = [FileState.Open, FileState.Closing],
        [FileState.Closing] = [FileState.Closed],
    };

    private readonly Lock _gate = new();
    // A set: a file may hold thousands of mappings, and each unmap removes one (a list was O(n) per unmap).
    private readonly HashSet<DeviceMapping> _mappings = [];
    private StateMachine<FileState> _state;
    private int _calls;
    private long _offset; // f_offset: where read(2)/write(2) without an offset go next

    internal DeviceFile(long id, MinorNode node, DevT dev, OpenFlags flags, Cred cred, UmemProcess? process)
    {
        Id = id;
        Node = node;
        Dev = dev;
        Flags = flags;
        Cred = cred;
        Process = process;
        _state = new StateMachine<FileState>(FileState.Open, s_transitions, this, static f => $"file {((DeviceFile)f).Id} of {((DeviceFile)f).Node.Name}");
    }

    /// <summary>A number unique in the host (the protocol's <c>handle</c>).</summary>
    public long Id { get; }

    /// <summary>The node opened.</summary>
    public MinorNode Node { get; }

    /// <summary>The device number open(9E) returned (a cloning driver may have changed the minor).</summary>
    public DevT Dev { get; internal set; }

    /// <summary>FREAD and/or FWRITE.</summary>
    public OpenFlags Flags { get; }

    /// <summary>Who opened it.</summary>
    public Cred Cred { get; }

    /// <summary>
    /// The application process that opened it, or null for an in-process requester. Every entry point the file
    /// runs (open(9E), segmap/devmap(9E) and their callbacks, ioctl(9E), chpoll(9E), close(9E)) runs with it as
    /// curproc (<see cref="UmemProcess.Current"/>), so ddi_umem_lock(9F) reaches that process's memory.
    /// </summary>
    public UmemProcess? Process { get; }

    /// <summary>The file's state.</summary>
    public FileState State
    {
        get
        {
            lock (_gate) return _state.State;
        }
    }

    /// <summary>The live mappings made through this file.</summary>
    public IReadOnlyList<DeviceMapping> Mappings
    {
        get
        {
            lock (_gate) return [.. _mappings.OrderBy(m => m.Id)];
        }
    }

    internal DriverModule Module => Node.Module;

    /// <summary>
    /// mmap(2) of <c>[offset, offset+length)</c> of the device, checked as smmap_common does, then the driver's
    /// segmap(9E) (by default devmap_setup, which calls devmap(9E) until the range is covered). The length is rounded
    /// up to whole pages.
    /// </summary>
    /// <param name="offset">Device offset; page-aligned.</param>
    /// <param name="length">Bytes; positive.</param>
    /// <param name="prot">PROT_READ, PROT_WRITE, PROT_EXEC (PROT_USER is the kernel's to add).</param>
    /// <param name="flags">MAP_SHARED or MAP_PRIVATE.</param>
    /// <exception cref="ErrnoException">
    /// EINVAL (bad arguments, or a bad answer from the driver), EACCES (protection beyond the open mode), EBADF
    /// (closed), ENODEV (no segmap/devmap), ENXIO (devmap(9E) or a callback failed), ENOTSUP, or segmap's errno.
    /// The message gives the reason.
    /// </exception>
    public DeviceMapping Map(long offset, long length, Prot prot, MapFlags flags)
    {
        // Formatted only when something fails: a map request that succeeds builds no strings.
        string Call() => $"mmap({Node.Name}, off=0x{offset:x}, len={length}, {prot.Format()}, {flags.Format()})";
        if (length <= 0)
            throw new ErrnoException(Errno.EINVAL, Call(), "length must be positive");
        if (offset < 0 || !SystemPage.IsAligned(offset))
            throw new ErrnoException(Errno.EINVAL, Call(), "offset must be non-negative and page-aligned");
        long len = Sunddi.Ptob(Sunddi.Btopr(length));
        if (len < length || offset > long.MaxValue - len)
            throw new ErrnoException(Errno.EOVERFLOW, Call(), "offset + length overflows");
        if (flags is not (MapFlags.Shared or MapFlags.Private))
            throw new ErrnoException(Errno.EINVAL, Call(), "flags must be exactly MAP_SHARED or MAP_PRIVATE");
        if ((prot & ~(Prot.Read | Prot.Write | Prot.Exec)) != 0)
            throw new ErrnoException(Errno.EINVAL, Call(), "prot may hold only PROT_READ, PROT_WRITE and PROT_EXEC");

        // smmap_common: uprot = prot|PROT_USER; a shared mapping of a file not open for writing may not write.
        Prot uprot = prot | Prot.User;
        Prot maxprot = Prot.All;
        if (flags == MapFlags.Shared && (Flags & OpenFlags.Write) == 0) maxprot &= ~Prot.Write;
        if ((maxprot & uprot) != uprot)
            throw new ErrnoException(Errno.EACCES, Call(), $"the file is open {Flags.Format()}; a MAP_SHARED mapping cannot have PROT_WRITE");
        if ((Flags & OpenFlags.Read) == 0)
            throw new ErrnoException(Errno.EACCES, Call(), "the file is not open for reading");

        EnterCall("mmap");
        try
        {
            var target = new MapTarget(this, offset, len, uprot, maxprot, flags);
            Errno rc;
            string? reason = null;
            using (UmemProcess.EnterIfAny(Process))
            using (Ambient.EnterMap(Cred.Model))
            {
                switch (Module.Driver)
                {
                    case ISegmap segmap:
                        try
                        {
                            rc = segmap.Segmap(Dev, offset, target, len, uprot, maxprot, flags, Cred);
                        }
                        catch (Exception e)
                        {
                            Module.ReportException("segmap(9E)", e);
                            rc = Errno.EIO;
                            reason = $"segmap(9E) threw {e.GetType().Name}: {e.Message}";
                        }
                        break;
                    case IDevmap:
                        rc = DevmapFramework.Setup(Dev, offset, target, len, uprot, maxprot, flags, Cred);
                        break;
                    default:
                        rc = Errno.ENODEV; // spec_char_map: neither segmap(9E) nor devmap(9E)
                        reason = $"driver {Module.Name} has neither segmap(9E) nor devmap(9E)";
                        break;
                }
            }

            if (rc != Errno.None)
            {
                target.Abort();
                throw reason is null && target.FailureReason is null
                    ? DriverErrno.Exception(rc, Call(), "segmap(9E)")
                    : new ErrnoException(rc, Call(), reason ?? target.FailureReason!);
            }
            if (target.Handles is not { } handles)
                throw new ErrnoException(Errno.ENXIO, Call(), "segmap(9E) returned 0 without setting up a mapping (devmap_setup)");

            var mapping = new DeviceMapping(Module.Kernel.NextId(), this, offset, len, prot, flags, handles);
            lock (_gate)
            {
                _mappings.Add(mapping);
                if (_state.State == FileState.Open) _state.MoveTo(FileState.Mapped);
            }
            Module.Kernel.Register(mapping);
            return mapping;
        }
        finally
        {
            ExitCall();
        }
    }

    /// <summary>
    /// ioctl(2): runs the driver's ioctl(9E) with <paramref name="input"/> and room for <paramref name="output"/>.
    /// </summary>
    /// <param name="cmd">The command.</param>
    /// <param name="input">Bytes for the driver (ddi_copyin).</param>
    /// <param name="output">Room for the driver's answer (ddi_copyout).</param>
    /// <param name="written">Bytes the driver wrote to <paramref name="output"/>.</param>
    /// <param name="rval">The driver's <c>*rvalp</c>.</param>
    /// <exception cref="ErrnoException">The driver's errno; ENXIO without ioctl(9E); EBADF when closed.</exception>
    public void Ioctl(int cmd, ReadOnlySpan<byte> input, Span<byte> output, out int written, out int rval)
    {
        int inLength = input.Length, outLength = output.Length;
        string Call() => $"ioctl({Node.Name}, cmd=0x{cmd:x}, in={inLength}, out={outLength})";
        EnterCall("ioctl");
        try
        {
            if (Module.Driver is not IIoctl driver)
                throw new ErrnoException(Errno.ENXIO, Call(), $"driver {Module.Name} has no ioctl(9E) entry point");
            var buffer = new IoctlBuffer(input, output);
            Errno rc;
            rval = 0;
            try
            {
                using var _ = UmemProcess.EnterIfAny(Process);
                rc = driver.Ioctl(Dev, cmd, ref buffer, Flags | (OpenFlags)(int)Cred.Model, Cred, out rval);
            }
            catch (Exception e)
            {
                Module.ReportException("ioctl(9E)", e);
                throw new ErrnoException(Errno.EIO, Call(), $"ioctl(9E) threw {e.GetType().Name}: {e.Message}");
            }
            written = buffer.Written;
            if (rc != Errno.None) throw DriverErrno.Exception(rc, Call(), "ioctl(9E)");
        }
        finally
        {
            ExitCall();
        }
    }

    /// <summary>
    /// poll(2) on the file: the driver's chpoll(9E). Returns the events ready; when none are and
    /// <paramref name="anyYet"/> is false, <paramref name="pollHead"/> is what the driver will wake.
    /// </summary>
    public PollEvents Poll(PollEvents events, bool anyYet, out PollHead? pollHead)
    {
        string call = $"poll({Node.Name}, events=0x{(int)events:x})";
        EnterCall("poll");
        try
        {
            if (Module.Driver is not IChpoll driver)
                throw new ErrnoException(Errno.ENXIO, call, $"driver {Module.Name} has no chpoll(9E) entry point");
            Errno rc;
            PollEvents revents;
            try
            {
                using var _ = UmemProcess.EnterIfAny(Process);
                rc = driver.Chpoll(Dev, events, anyYet, out revents, out pollHead);
            }
            catch (Exception e)
            {
                Module.ReportException("chpoll(9E)", e);
                throw new ErrnoException(Errno.EIO, call, $"chpoll(9E) threw {e.GetType().Name}: {e.Message}");
            }
            if (rc != Errno.None) throw DriverErrno.Exception(rc, call, "chpoll(9E)");
            return revents & events | (revents & (PollEvents.Err | PollEvents.Hup | PollEvents.Nval));
        }
        finally
        {
            ExitCall();
        }
    }

    /// <summary>
    /// close(2). Mappings stay valid (as after close(2) of an mmap'ed fd); close(9E) runs now if none remain, else
    /// when the last one is unmapped.
    /// </summary>
    /// <exception cref="ErrnoException">EBADF when already closed; close(9E)'s errno when it ran now and failed (the file is closed anyway).</exception>
    public void Close()
    {
        if (!TryClose(out var error))
            throw new ErrnoException(Errno.EBADF, $"close({Node.Name}, file {Id})", "the file is already closed");
        if (error is not null) throw error;
    }

    /// <summary>Closes the file if it is open; never throws (close(9E) errors are reported as messages).</summary>
    public void Dispose() => TryClose(out _);

    private bool TryClose(out ErrnoException? error)
    {
        error = null;
        bool finishNow;
        lock (_gate)
        {
            if (_state.State is FileState.Closing or FileState.Closed) return false;
            finishNow = _mappings.Count == 0 && _calls == 0;
            _state.MoveTo(finishNow ? FileState.Closed : FileState.Closing);
        }
        if (finishNow) error = RunClose();
        return true;
    }

    internal void OnMappingGone(DeviceMapping mapping)
    {
        bool finish = false;
        lock (_gate)
        {
            if (!_mappings.Remove(mapping)) return;
            if (_mappings.Count == 0)
            {
                if (_state.State == FileState.Mapped) _state.MoveTo(FileState.Open);
                else if (_state.State == FileState.Closing && _calls == 0)
                {
                    _state.MoveTo(FileState.Closed);
                    finish = true;
                }
            }
        }
        Module.Kernel.Unregister(mapping);
        if (finish) _ = RunClose();
    }

    private void EnterCall(string operation)
    {
        lock (_gate)
        {
            if (_state.State is FileState.Closing or FileState.Closed)
                throw new ErrnoException(Errno.EBADF, $"{operation}({Node.Name})", $"file {Id} is closed");
            _calls++;
        }
    }

    private void ExitCall()
    {
        bool finish = false;
        lock (_gate)
        {
            _calls--;
            if (_calls == 0 && _mappings.Count == 0 && _state.State == FileState.Closing)
            {
                _state.MoveTo(FileState.Closed);
                finish = true;
            }
        }
        if (finish) _ = RunClose();
    }

    /// <summary>close(9E), then the module's hold goes; returns close's error, if any (also reported as a message).</summary>
    private ErrnoException? RunClose()
    {
        ErrnoException? error = null;
        try
        {
            using var _ = UmemProcess.EnterIfAny(Process);
            Errno rc = Module.Driver!.Close(Dev, Flags, OpenType.Char, Cred);
            if (rc != Errno.None)
            {
                error = DriverErrno.Exception(rc, $"close({Node.Name}, file {Id})", "close(9E)");
                Module.Report(CeLevel.Warn, error.Message);
            }
        }
        catch (Exception e)
        {
            Module.ReportException("close(9E)", e);
            error = new ErrnoException(Errno.EIO, $"close({Node.Name}, file {Id})", $"close(9E) threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Module.Kernel.Unregister(this);
            Module.ReleaseFile(this);
        }
        return error;
    }

    public override string ToString() => $"file {Id} of {Node.Name} ({Flags.Format()}, {Cred})";
}
