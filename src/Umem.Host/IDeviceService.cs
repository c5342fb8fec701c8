using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// The kernel side of the device host: what runs a client's requests once the host has validated them. The
/// DDI framework implements it (open(9E), segmap(9E)/devmap(9E), segdev_unmap, ioctl(9E), ddi_umem_lock
/// buffers, close(9E)); tests implement it over plain sealed memfds.
/// </summary>
/// <remarks>
/// <para>Calls for one connection never overlap: a connection's requests run one at a time, in arrival order,
/// on the connection's receive loop. Calls for different connections run concurrently, so an implementation
/// must be thread-safe across clients.</para>
/// <para>Errors: throw <see cref="ErrnoException"/>; the client receives its errno (ENXIO, EACCES, ...). Any other
/// exception is logged and answered with EIO; the host never stops serving.</para>
/// <para>Ordering guarantees (as illumos gives a driver): every range of a mapping is unmapped before the
/// handle it came from is closed; on disconnect the host unmaps every live range, unregisters every buffer,
/// closes every handle, and then calls <see cref="Disconnected"/>.</para>
/// </remarks>
public interface IDeviceService
{
    /// <summary>open(9E) of <paramref name="node"/> for <paramref name="client"/> (its Cred) with the mode asked for,
    /// after the host checked the node's permission bits. Returns the driver's state for this open (not null).</summary>
    object Open(ClientSession client, MinorNode node, OpenMode mode);

    /// <summary>
    /// segmap(9E)/devmap(9E) of [offset, offset+length) of the device (page-aligned, nonzero; prot PROT_* and
    /// flags MAP_SHARED or MAP_PRIVATE already validated, and the open mode checked). The result must cover
    /// exactly <paramref name="length"/> bytes; each segment names a memfd the host sends to the client, opened
    /// O_RDONLY when its maxprot lacks PROT_WRITE. The host refuses (EACCES) a prot above any segment's maxprot
    /// and releases the mapping with <see cref="Unmap"/>.
    /// </summary>
    IDeviceMapping Map(ClientSession client, object handle, long offset, long length, int prot, int flags);

    /// <summary>
    /// segdev_unmap: [offset, offset+length) of <paramref name="mapping"/> (relative to its start) is gone.
    /// The host passes only ranges still mapped, so a driver sees the whole, head, tail or hole cases.
    /// </summary>
    void Unmap(ClientSession client, IDeviceMapping mapping, long offset, long length);

    /// <summary>ioctl(9E): <paramref name="output"/> has room for out_max bytes.</summary>
    IoctlResult Ioctl(ClientSession client, object handle, uint cmd, ReadOnlySpan<byte> input, Span<byte> output);

    /// <summary>A client registered application memory (mapped by the host too). Returns the driver's state for it.</summary>
    object Register(ClientSession client, RegisteredBuffer buffer);

    /// <summary>The buffer is being unregistered: release every lock on it. The host unmaps it afterwards.</summary>
    void Unregister(ClientSession client, object buffer);

    /// <summary>close(9E) of an open, after its last mapping is gone.</summary>
    void Close(ClientSession client, object handle);

    /// <summary>The connection ended (closed, killed, or the host stopping) and everything on it was released.</summary>
    void Disconnected(ClientSession client);
}

/// <summary>What an ioctl(9E) returned: <c>*rvalp</c> and the bytes written to the output.</summary>
public readonly record struct IoctlResult(int Rval, int OutLength);

/// <summary>A mapping a driver set up: segments covering [0, <see cref="Length"/>) in order.</summary>
public interface IDeviceMapping
{
    /// <summary>Bytes mapped.</summary>
    long Length { get; }

    /// <summary>How many segments (each with its own memfd).</summary>
    int SegmentCount { get; }

    /// <summary>Segment <paramref name="index"/>.</summary>
    MapSegment GetSegment(int index);

    /// <summary>
    /// Called just before the segments' memfds are sent: from now on another process may hold them for ever, so
    /// their memory must never back anything else (see docs/design.md).
    /// </summary>
    void MarkGranted();
}

/// <summary>One segment of a mapping.</summary>
/// <param name="Offset">Where it starts in the mapping.</param>
/// <param name="Length">Bytes (whole pages).</param>
/// <param name="Fd">The memfd to send (the service keeps ownership).</param>
/// <param name="FdOffset">Where in the memfd it starts (page-aligned).</param>
/// <param name="MaxProt">The most it may be mapped with (PROT_*).</param>
public readonly record struct MapSegment(long Offset, long Length, SafeFd Fd, long FdOffset, int MaxProt);
