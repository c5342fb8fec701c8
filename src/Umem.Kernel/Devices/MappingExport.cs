using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Kernel.Devices;

/// <summary>
/// The segments of a mapping prepared for another process (<see cref="DeviceMapping.Export"/>). Keeps the memory
/// and the fds alive until disposed; disposing closes the read-only reopens it made (the receiver has its own copies
/// once they are sent), so a mapping holds no descriptor of its own once its reply is out.
/// </summary>
public sealed class MappingExport : IDisposable
{
    private readonly List<SafeFd> _owned;
    private readonly List<UmemCookie> _held;
    private int _disposed;

    internal MappingExport(long mappingId, IReadOnlyList<ExportedSegment> segments, List<SafeFd> owned, List<UmemCookie> held)
    {
        MappingId = mappingId;
        Segments = segments;
        _owned = owned;
        _held = held;
    }

    /// <summary>The mapping exported.</summary>
    public long MappingId { get; }

    /// <summary>The segments covering the mapping's live parts, in order.</summary>
    public IReadOnlyList<ExportedSegment> Segments { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var fd in _owned) fd.Dispose();
        foreach (var c in _held) c.Release();
    }
}
