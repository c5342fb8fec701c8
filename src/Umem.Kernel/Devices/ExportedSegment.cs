using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>A segment as it leaves the host.</summary>
/// <param name="Offset">Where the segment starts inside the mapping.</param>
/// <param name="Length">Bytes (whole pages).</param>
/// <param name="Fd">The descriptor to send: the memfd, or an O_RDONLY reopen of it.</param>
/// <param name="FdOffset">Where in the memfd the segment starts.</param>
/// <param name="MaxProt">The most the receiver may map it with; never PROT_WRITE for a read-only fd.</param>
/// <param name="ReadOnly">True when <paramref name="Fd"/> is an O_RDONLY reopen.</param>
public readonly record struct ExportedSegment(long Offset, long Length, SafeFd Fd, long FdOffset, Prot MaxProt, bool ReadOnly);
