using Umem.Kernel.Devices;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>
/// The DDI's free functions (sunddi.h, ddidevmap.h, sysmacros.h) for driver code. A driver may write
/// <c>using static Umem.Kernel.Ddi.Sunddi;</c> and then call <c>Ptob(Btopr(len))</c>, <c>GetMinor(dev)</c> or
/// <c>DevmapUmemSetup(...)</c> much as the C reads. Everything that needs a service (memory, messages) comes from
/// the <see cref="DdiContext"/> the framework hands the driver, not from here.
/// </summary>
public static class Sunddi
{
    /// <summary>ptob(9F): pages to bytes (the system page size, never hard-coded).</summary>
    public static long Ptob(long pages) => SystemPage.PagesToBytes(pages);

    /// <summary>btop(9F): bytes to pages, rounded down.</summary>
    public static long Btop(long bytes) => SystemPage.BytesToPages(bytes);

    /// <summary>btopr(9F): bytes to pages, rounded up.</summary>
    public static long Btopr(long bytes) => SystemPage.BytesToPagesRoundUp(bytes);

    /// <summary>makedevice(9F): a dev_t from a major and a minor number.</summary>
    public static DevT MakeDevice(uint major, uint minor) => DevT.Make(major, minor);

    /// <summary>getmajor(9F): the major number of a dev_t.</summary>
    public static uint GetMajor(DevT dev) => dev.Major;

    /// <summary>getminor(9F): the minor number of a dev_t.</summary>
    public static uint GetMinor(DevT dev) => dev.Minor;

    /// <summary>
    /// ddi_model_convert_from(9F): whether data from an application of <paramref name="model"/> needs converting
    /// for this (64-bit) driver: <c>(model &amp; DDI_MODEL_MASK) &amp; ~DDI_MODEL_NATIVE</c>. ILP32 stays ILP32;
    /// LP64 (native here) becomes <see cref="DataModel.None"/>.
    /// </summary>
    public static DataModel ModelConvertFrom(DataModel model) =>
        (DataModel)((int)model & DataModelMask & ~(int)DataModel.LP64);

    /// <summary>
    /// ddi_mmap_get_model(9F): the data model of the application whose mmap(2) is being served. Valid inside
    /// segmap(9E), devmap(9E) and the devmap callbacks; Umem throws elsewhere (illumos would return the model of
    /// whatever thread happens to call it).
    /// </summary>
    public static DataModel MmapGetModel() =>
        Ambient.MapModel ?? throw new InvalidOperationException(
            "ddi_mmap_get_model: called outside segmap(9E)/devmap(9E); there is no mapping request on this thread");

    /// <summary>
    /// devmap_setup(9F): sets up a device mapping for a segmap(9E) entry point, calling the driver's devmap(9E)
    /// until the whole range is covered (one devmap handle per call). Returns 0 or the errno for the application.
    /// </summary>
    public static Errno DevmapSetup(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred)
    {
        ArgumentNullException.ThrowIfNull(target);
        return DevmapFramework.Setup(dev, off, target, len, prot, maxprot, flags, cred);
    }

    /// <summary>ddi_devmap_segmap(9F): the same as <see cref="DevmapSetup"/>; a driver may use it as its segmap(9E).</summary>
    public static Errno DevmapSegmap(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred) =>
        DevmapSetup(dev, off, target, len, prot, maxprot, flags, cred);

    /// <summary>
    /// devmap_umem_setup(9F): exports <c>[koff, koff+len)</c> of the memory of <paramref name="cookie"/> through the
    /// devmap handle, with at most <paramref name="maxprot"/>. Call it from devmap(9E). The checks run in illumos
    /// order (null cookie; <c>koff+len</c> beyond the cookie; cache attributes; setup already done; maxprot not
    /// covering the request's protection, PROT_USER included; MAPPING_INVALID without ALLOW_REMAP), then Umem's
    /// own (the range must fall on the cookie's grant units). <c>koff</c> is rounded down to a page and <c>len</c>
    /// up. On failure the reason is kept on the handle (<see cref="DevmapHandle.FailureReason"/>) and reported
    /// with the errno the application gets.
    /// </summary>
    /// <param name="handle">The handle devmap(9E) received.</param>
    /// <param name="dip">The device's dev_info (not used, as in illumos).</param>
    /// <param name="callbacks">devmap_callback_ctl(9S), or null.</param>
    /// <param name="cookie">From ddi_umem_alloc(9F) (<see cref="ModuleAllocator.Alloc"/>).</param>
    /// <param name="koff">Offset into the cookie's memory.</param>
    /// <param name="len">Bytes to export.</param>
    /// <param name="maxprot">The most the application may map; must include <see cref="Prot.User"/>.</param>
    /// <param name="flags"><see cref="DevmapFlags.Defaults"/>.</param>
    /// <param name="accattr">ddi_device_acc_attr(9S); ignored for kernel memory.</param>
    /// <returns><see cref="DdiResult.Success"/> or <see cref="DdiResult.Failure"/>.</returns>
    public static DdiResult DevmapUmemSetup(DevmapHandle handle, DevInfo? dip, DevmapCallbacks? callbacks, UmemCookie? cookie,
        long koff, long len, Prot maxprot, DevmapFlags flags, DeviceAccessAttributes? accattr)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _ = dip; // devmap_umem_setup ignores dip
        _ = accattr; // only the endian attribute, meaningless for memory
        return handle.UmemSetup(callbacks, cookie, koff, len, maxprot, flags);
    }

    /// <summary>
    /// uiomove(9F): moves min(<paramref name="nbytes"/>, uio.Resid) bytes between <paramref name="address"/> (the
    /// driver's memory) and the caller's buffer, <see cref="UioRw.Read"/> to the caller, <see cref="UioRw.Write"/>
    /// from it, and advances uio.Offset and uio.Resid. 0, or EFAULT when <paramref name="nbytes"/> is not within
    /// <paramref name="address"/>.
    /// </summary>
    public static Errno Uiomove(scoped Span<byte> address, long nbytes, UioRw rwflag, ref Uio uio) => uio.Move(address, nbytes, rwflag);

    /// <summary>ureadc(9F): moves one byte to the caller (read(9E)). 0, or -1 when the caller's buffer is full.</summary>
    public static int Ureadc(byte c, ref Uio uio)
    {
        if (uio.Resid == 0) return -1;
        Span<byte> one = [c];
        uio.Move(one, 1, UioRw.Read);
        return 0;
    }

    /// <summary>uwritec(9F): the next byte of the caller's data (write(9E)), or -1 when there is none left.</summary>
    public static int Uwritec(ref Uio uio)
    {
        if (uio.Resid == 0) return -1;
        Span<byte> one = [0];
        uio.Move(one, 1, UioRw.Write);
        return one[0];
    }

    private const int DataModelMask = 0x0FF00000;
}

/// <summary>Per-call state the framework sets around entry points (the thread's "current process" in illumos terms).</summary>
internal static class Ambient
{
    // The calling thread's, as the mapping request runs on it (a thread-static costs no allocation per request).
    [ThreadStatic]
    private static DataModel? t_mapModel;

    /// <summary>The requester's model while a mapping request runs on this thread; null otherwise.</summary>
    internal static DataModel? MapModel => t_mapModel;

    internal static Scope EnterMap(DataModel model)
    {
        var previous = t_mapModel;
        t_mapModel = model;
        return new Scope(previous);
    }

    internal readonly struct Scope(DataModel? previous) : IDisposable
    {
        public void Dispose() => t_mapModel = previous;
    }
}
