using Umem.Kernel;
using Umem.Kernel.Ddi;
using Umem.Kernel.Locking;
using Umem.Kernel.ResourceControls;

namespace Umem.Host.Ddi;

/// <summary>
/// The device service on top of the DDI framework: each request of an application runs the driver's entry point
/// through <see cref="UmemKernel"/> exactly as the in-process requester does, with the client's <see cref="Cred"/>
/// and, as curproc, the client's <see cref="UmemProcess"/> (its registered buffers and resource controls).
/// </summary>
public sealed class DdiDeviceService : IDeviceService
{
    private readonly UmemKernel _kernel;
    private readonly ResourceControlRegistry _controls;

    public DdiDeviceService(UmemKernel kernel, ResourceControlRegistry controls)
    {
        _kernel = kernel;
        _controls = controls;
    }

    /// <summary>The project and zone of a peer, resolved from its uid/gid and pid (project(5), the zones file).</summary>
    public Cred Identify(Cred peer) => _controls.CreateCred(peer.Pid, peer.Uid, peer.Gid, peer.Model);

    public object Open(ClientSession client, MinorNode node, OpenMode mode)
    {
        using var _ = UmemProcess.Enter(ProcessOf(client));
        return _kernel.Open(node.Name, OpenFlagsExtensions.FromOpenMode((int)mode), client.Cred);
    }

    public IDeviceMapping Map(ClientSession client, object handle, long offset, long length, int prot, int flags)
    {
        using var _ = UmemProcess.Enter(ProcessOf(client));
        var mapping = ((DeviceFile)handle).Map(offset, length, (Prot)prot, (MapFlags)flags);
        return new DdiDeviceMapping(mapping);
    }

    public void Unmap(ClientSession client, IDeviceMapping mapping, long offset, long length)
    {
        using var _ = UmemProcess.Enter(ProcessOf(client));
        ((DdiDeviceMapping)mapping).Unmap(offset, length);
    }

    public IoctlResult Ioctl(ClientSession client, object handle, uint cmd, ReadOnlySpan<byte> input, Span<byte> output)
    {
        using var _ = UmemProcess.Enter(ProcessOf(client));
        ((DeviceFile)handle).Ioctl(unchecked((int)cmd), input, output, out int written, out int rval);
        return new IoctlResult(rval, written);
    }

    public object Register(ClientSession client, RegisteredBuffer buffer) =>
        ProcessOf(client).RegisterBuffer(buffer.ClientAddress, buffer.Length, buffer.Fd);

    public void Unregister(ClientSession client, object buffer) =>
        ProcessOf(client).UnregisterBuffer(((UmemBuffer)buffer).Id);

    public void Close(ClientSession client, object handle)
    {
        using var _ = UmemProcess.Enter(ProcessOf(client));
        ((DeviceFile)handle).Close();
    }

    /// <summary>The process is gone: LONGTERM locks run their cleanup and every lock's charge returns.</summary>
    public void Disconnected(ClientSession client)
    {
        if (client.ServiceState is UmemProcess process)
        {
            client.ServiceState = null;
            process.Dispose();
        }
    }

    private UmemProcess ProcessOf(ClientSession client)
    {
        // A connection's requests never overlap (IDeviceService contract), so no race on ServiceState.
        if (client.ServiceState is UmemProcess p) return p;
        p = new UmemProcess(_controls, client.Cred);
        client.ServiceState = p;
        return p;
    }
}
