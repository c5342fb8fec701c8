using Umem.Kernel.Memory;

namespace Umem.Kernel.Ddi;

/// <summary>A cookie a module never freed, found and reclaimed when it unloaded.</summary>
/// <param name="Module">The module that allocated it.</param>
/// <param name="CookieId">The cookie's id.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Type">KMEM_PAGEABLE or KMEM_NON_PAGEABLE.</param>
/// <param name="Site">Where it was allocated.</param>
/// <param name="StillExported">True if mappings still held it (its memory then goes with the last of them).</param>
public sealed record LeakRecord(string Module, long CookieId, long Size, UmemCookieType Type, AllocationSite Site, bool StillExported)
{
    public override string ToString() =>
        $"{Module}: umem cookie {CookieId} ({Size} bytes, {Type}) allocated at {Site} was never freed; reclaimed";
}
