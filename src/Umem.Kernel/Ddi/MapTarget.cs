using Umem.Kernel.Devices;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// The mapping being built for one mmap(2) request: what segmap(9E) receives as <c>struct as *asp</c> and
/// <c>caddr_t *addrp</c>, and passes on to <see cref="Sunddi.DevmapSetup"/>. It lives only during the request.
/// </summary>
public sealed class MapTarget
{
    internal MapTarget(DeviceFile file, long offset, long length, Prot uprot, Prot maxprot, MapFlags flags)
    {
        File = file;
        Offset = offset;
        Length = length;
        UProt = uprot;
        MaxProt = maxprot;
        Flags = flags;
    }

    /// <summary>The device offset the application asked for.</summary>
    public long Offset { get; }

    /// <summary>The length of the mapping (whole pages).</summary>
    public long Length { get; }

    internal DeviceFile File { get; }

    internal UmemKernel Kernel => File.Module.Kernel;

    internal Prot UProt { get; }

    internal Prot MaxProt { get; }

    internal MapFlags Flags { get; }

    /// <summary>Set once devmap_setup has run for this request (it may run only once).</summary>
    internal bool SetupCalled { get; set; }

    /// <summary>The handles of the mapping, in order, once devmap_setup succeeded.</summary>
    internal List<DevmapHandle>? Handles { get; set; }

    /// <summary>Why devmap_setup failed, to go with the errno to the application.</summary>
    internal string? FailureReason { get; set; }

    /// <summary>Undoes a mapping set up by devmap_setup when segmap(9E) then fails: unmap callbacks, then free.</summary>
    internal void Abort()
    {
        if (Handles is not { } handles) return;
        Handles = null;
        foreach (var dhp in handles)
            DevmapFramework.CallUnmap(File.Module, dhp, dhp.Offset, dhp.Length, null, null);
        foreach (var dhp in handles) dhp.Free();
    }
}
