using Umem.Kernel.Ddi;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// devmap_setup(9F) as seg_dev.c does it: one devmap(9E) call per handle until the request is covered, then the
/// map callbacks in order. Umem refuses (with the reason) what illumos would loop on, panic on or silently get
/// wrong; each such case is listed in docs/design.md.
/// </summary>
internal static class DevmapFramework
{
    internal static Errno Setup(DevT dev, long off, MapTarget target, long len, Prot prot, Prot maxprot, MapFlags flags, Cred cred)
    {
        var module = target.File.Module;
        if (target.SetupCalled)
            return Fail(target, Errno.EINVAL, "devmap_setup was already called for this mmap request");
        target.SetupCalled = true;

        // devmap_setup: a driver without devmap(9E) cannot use the devmap framework.
        if (module.Driver is not IDevmap driver)
            return Fail(target, Errno.EINVAL, $"driver {module.Name} has no devmap(9E) entry point");
        if (dev.Major != module.Major)
            return Fail(target, Errno.EINVAL, $"dev {dev} is not a device of driver {module.Name} (major {module.Major})");
        // Umem maps exactly what the application asked for; a segmap that changed the length or the protection
        // would describe a mapping nobody requested.
        if (len != target.Length)
            return Fail(target, Errno.EINVAL, $"devmap_setup len {len} differs from the request's {target.Length}");
        if (prot != target.UProt)
            return Fail(target, Errno.EINVAL, $"devmap_setup prot {prot.Format()} differs from the request's {target.UProt.Format()}");
        // Nor may it widen what mmap(2) allowed (e.g. write on a file opened read-only).
        maxprot &= target.MaxProt;

        var handles = new List<DevmapHandle>(1); // the request's; the mapping keeps its handles without a list (RegionList)
        using (Ambient.EnterMap(cred.Model))
        {
            long total = 0, mapOff = off;
            while (total < len)
            {
                long resid = len - total;
                var dhp = new DevmapHandle(target, dev, prot, maxprot, mapOff);
                handles.Add(dhp);

                Errno rc;
                long mapLen = 0;
                try
                {
                    rc = driver.Devmap(dev, dhp, mapOff, resid, out mapLen, cred.Model);
                }
                catch (Exception e)
                {
                    module.ReportException("devmap(9E)", e);
                    rc = Errno.EIO;
                }

                string at = $"devmap(9E) at off 0x{mapOff:x} len {resid}";
                if (rc != Errno.None)
                    return Fail(target, handles, Errno.ENXIO, $"{at} returned {rc.Name()}" + (dhp.FailureReason is { } why ? $"; {why}" : ""));
                if ((mapLen & (SystemPage.Size - 1)) != 0)
                    return Fail(target, handles, Errno.EINVAL, $"{at} set *maplen to {mapLen}, not a multiple of the page size");
                // Umem: illumos loops forever on a zero maplen, and does not notice a devmap that set nothing up.
                if (mapLen <= 0)
                {
                    return Fail(target, handles, Errno.EINVAL, mapLen == 0
                        ? $"{at} set *maplen to 0; illumos would call devmap(9E) forever"
                        : $"{at} set *maplen to {mapLen}, which is negative");
                }
                if (!dhp.SetupDone)
                    return Fail(target, handles, Errno.ENXIO, $"{at} returned 0 without calling devmap_umem_setup(9F)" + (dhp.FailureReason is { } why2 ? $" successfully ({why2})" : ""));
                if (mapLen > resid)
                    return Fail(target, handles, Errno.EINVAL, $"{at} set *maplen to {mapLen}, beyond the {resid} bytes requested");
                if (mapLen != dhp.Length)
                    return Fail(target, handles, Errno.EINVAL, $"{at} set *maplen to {mapLen} but devmap_umem_setup exported {dhp.Length} bytes");

                if (dhp.Callbacks?.Access is null)
                {
                    // devmap_setup: without devmap_access(9E) there is no MAP_PRIVATE.
                    if ((flags & MapFlags.Private) != 0)
                        return Fail(target, handles, Errno.EINVAL, "MAP_PRIVATE needs a devmap_access(9E) callback");
                }
                else
                {
                    // ENOTSUP in illumos terms (on Linux ENOTSUP is EOPNOTSUPP).
                    return Fail(target, handles, Errno.EOPNOTSUPP, "devmap_access(9E) callbacks are not supported: faults happen in the application's address space, out of the host's sight");
                }

                dhp.MappingOffset = total;
                total += mapLen;
                mapOff += mapLen;
            }

            // The mapping exists; the driver's devmap_map(9E) sees each handle in order. A failure unmaps the
            // handles already told (with no new handles) and fails the request with ENXIO.
            for (int i = 0; i < handles.Count; i++)
            {
                var dhp = handles[i];
                if (dhp.Callbacks?.Map is not { } map) continue;
                Errno rc;
                object? pvtp = null;
                try
                {
                    rc = map(dhp, dev, flags, dhp.Offset, dhp.Length, out pvtp);
                }
                catch (Exception e)
                {
                    module.ReportException("devmap_map(9E)", e);
                    rc = Errno.EIO;
                }
                dhp.Pvtp = pvtp;
                if (rc != Errno.None)
                {
                    for (int j = 0; j < i; j++)
                        CallUnmap(module, handles[j], handles[j].Offset, handles[j].Length, null, null);
                    return Fail(target, handles, Errno.ENXIO, $"devmap_map(9E) of {dhp} returned {rc.Name()}");
                }
            }
        }

        target.Handles = handles;
        return Errno.None;
    }

    /// <summary>Calls devmap_unmap(9E), if the handle has one; a throwing callback is reported, not propagated (unmap cannot fail).</summary>
    internal static void CallUnmap(DriverModule module, DevmapHandle dhp, long off, long len, DevmapHandle? newDhp1, DevmapHandle? newDhp2)
    {
        if (dhp.Callbacks?.Unmap is not { } unmap) return;
        object? ignored1 = null, ignored2 = null;
        try
        {
            unmap(dhp, dhp.Pvtp, off, len,
                newDhp1, ref newDhp1 is null ? ref ignored1 : ref newDhp1.Pvtp,
                newDhp2, ref newDhp2 is null ? ref ignored2 : ref newDhp2.Pvtp);
        }
        catch (Exception e)
        {
            module.ReportException("devmap_unmap(9E)", e);
        }
    }

    private static Errno Fail(MapTarget target, Errno errno, string reason)
    {
        target.FailureReason = reason;
        return errno;
    }

    private static Errno Fail(MapTarget target, List<DevmapHandle> handles, Errno errno, string reason)
    {
        foreach (var h in handles) h.Free();
        return Fail(target, errno, reason);
    }
}
