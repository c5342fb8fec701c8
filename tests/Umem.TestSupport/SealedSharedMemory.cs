using Umem.Platform;

namespace Umem.TestSupport;

/// <summary>
/// A sealed memfd mapped MAP_SHARED read-write in this process, which peer processes (as root or the same uid)
/// open through <see cref="ProcPath"/> to reach the same pages.
/// </summary>
public sealed class SealedSharedMemory : IDisposable
{
    /// <param name="length">Bytes (a multiple of the page size).</param>
    /// <param name="name">The memfd's name (seen in /proc/PID/maps).</param>
    /// <param name="populate">MAP_POPULATE: fault every page in now (benchmarks measure no first-touch faults).</param>
    public SealedSharedMemory(long length, string name = "umem-shared-test", bool populate = false)
    {
        Fd = MemFd.CreateSealed(name, length);
        try
        {
            Region = MappedRegion.MapShared(Fd, 0, length, writable: true, populate);
        }
        catch
        {
            Fd.Dispose();
            throw;
        }
        Length = length;
    }

    public SafeFd Fd { get; }

    public MappedRegion Region { get; }

    public nint Address => Region.Address;

    public long Length { get; }

    /// <summary>The path a peer opens to reach the same pages.</summary>
    public string ProcPath => $"/proc/{Environment.ProcessId}/fd/{Fd.Fd}";

    public void Dispose()
    {
        Region.Dispose();
        Fd.Dispose();
    }
}
