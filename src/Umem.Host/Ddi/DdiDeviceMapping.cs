using Umem.Kernel.Ddi;

namespace Umem.Host.Ddi;

/// <summary>
/// A framework mapping as the host sends it. Until <see cref="MarkGranted"/> the segments are the driver's own fds
/// (enough for the host's maxprot check); from then on they are the export's — read-only regions as O_RDONLY
/// reopens — and the export holds the memory until the mapping is wholly unmapped.
/// </summary>
internal sealed class DdiDeviceMapping : IDeviceMapping
{
    private readonly DeviceMapping _mapping;
    private readonly IReadOnlyList<MappingSegment> _segments;
    private MappingExport? _export;
    private long _mappedBytes;

    internal DdiDeviceMapping(DeviceMapping mapping)
    {
        _mapping = mapping;
        _segments = mapping.GetSegments();
        _mappedBytes = mapping.Length;
    }

    public long Length => _mapping.Length;

    public int SegmentCount => _segments.Count;

    public MapSegment GetSegment(int index)
    {
        if (_export is { } e)
        {
            var s = e.Segments[index];
            return new MapSegment(s.Offset, s.Length, s.Fd, s.FdOffset, (int)(s.MaxProt & (Prot.Read | Prot.Write | Prot.Exec)));
        }
        var m = _segments[index];
        return new MapSegment(m.Offset, m.Length, m.Fd, m.FdOffset, (int)(m.MaxProt & (Prot.Read | Prot.Write | Prot.Exec)));
    }

    public void MarkGranted() => _export ??= _mapping.Export();

    internal void Unmap(long offset, long length)
    {
        _mapping.Unmap(offset, length);
        // The host passes only live ranges, so the bytes still mapped are exact.
        _mappedBytes -= length;
        if (_mappedBytes == 0)
        {
            _export?.Dispose();
            _export = null;
        }
    }
}
