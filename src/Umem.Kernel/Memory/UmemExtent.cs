using Umem.Platform;

namespace Umem.Kernel.Memory;

/// <summary>
/// One memfd of a cookie's backing: the smallest range of the cookie that can be granted to a process on its
/// own. The kernel cannot restrict an fd to part of a memfd, so a grant is always a whole number of extents.
/// </summary>
internal sealed class UmemExtent
{
    internal UmemExtent(SafeFd fd, long offset, long length)
    {
        Fd = fd;
        Offset = offset;
        Length = length;
    }

    /// <summary>The memfd (read-write, sealed SHRINK|GROW|SEAL, mode 0600).</summary>
    internal SafeFd Fd { get; }

    /// <summary>Where the extent starts inside the cookie.</summary>
    internal long Offset { get; }

    /// <summary>The extent's length in bytes (whole pages).</summary>
    internal long Length { get; }
}
