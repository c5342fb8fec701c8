using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// A run of a mapping backed by one memfd.
/// </summary>
/// <param name="Offset">Where the run starts inside the mapping.</param>
/// <param name="Length">Bytes (whole pages).</param>
/// <param name="Fd">The memfd (owned by the driver's memory; do not dispose).</param>
/// <param name="FdOffset">Where in the memfd the run starts.</param>
/// <param name="MaxProt">The most the run may be mapped with (PROT_READ/WRITE/EXEC).</param>
public readonly record struct MappingSegment(long Offset, long Length, SafeFd Fd, long FdOffset, Prot MaxProt);
