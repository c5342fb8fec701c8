using Umem.Kernel.Ddi;
using Umem.Platform;

namespace Umem.Kernel.Devices;

public sealed partial class DeviceFile
{
    /// <summary>
    /// fork(2)'s as_dup for one device mapping, made good later: <paramref name="parent"/> (a mapping of another
    /// open of this node, which the calling process inherited) becomes a mapping of this file too, the driver's
    /// devmap_dup(9E) running for each of its handles (devmap_callback_ctl(9S)). The new mapping covers what is
    /// left of the parent's, holds the memory by references of its own (the parent's unmap or exit does not take
    /// it away) and is this file's process's. This file must grant what the parent's did: reading, and writing
    /// for a shared mapping through a file open for writing.
    /// </summary>
    /// <exception cref="ErrnoException">
    /// EINVAL (another node), EACCES (this file's access is less), EBADF (this file closed, or the parent mapping
    /// unmapped), or devmap_dup(9E)'s errno.
    /// </exception>
    public DeviceMapping Inherit(DeviceMapping parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        string Call() => $"inherit({Node.Name}, mapping {parent.Id})";
        if (!ReferenceEquals(parent.Node, Node))
            throw new ErrnoException(Errno.EINVAL, Call(), $"the mapping is of {parent.Node.Name}, not of {Node.Name}");
        if ((Flags & OpenFlags.Read) == 0)
            throw new ErrnoException(Errno.EACCES, Call(), "the file is not open for reading");
        bool writes = parent.Flags == MapFlags.Shared && (parent.File.Flags & OpenFlags.Write) != 0;
        if (writes && (Flags & OpenFlags.Write) == 0)
            throw new ErrnoException(Errno.EACCES, Call(), $"the inherited mapping is shared and writable; the file is open {Flags.Format()}");

        EnterCall("inherit");
        try
        {
            var handles = parent.DupHandles(Process);
            var mapping = new DeviceMapping(Module.Kernel.NextId(), this, parent.Offset, parent.Length, parent.Prot, parent.Flags, handles);
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
}
