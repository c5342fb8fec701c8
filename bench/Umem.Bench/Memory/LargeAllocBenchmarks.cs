using System.Globalization;
using BenchmarkDotNet.Attributes;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Bench.Memory;

/// <summary>
/// ddi_umem_alloc(DDI_UMEM_PAGEABLE) + touch one byte per page + ddi_umem_free from one page to 1 GiB, in the
/// default grant units (at most 64 memfds a cookie), beside the raw memfd path in the same run (one memfd, one
/// mapping). Before the per-cookie units, 1 GiB needed 262,144 memfds and could not be allocated at all (EMFILE).
/// The fds and mappings (VMAs) one allocation holds are printed at setup, from /proc/self/fd and /proc/self/maps.
/// </summary>
[MemoryDiagnoser]
public class LargeAllocBenchmarks
{
    private const string Name = "umem-bench-large";
    private UmemAllocator _allocator = null!;
    private UmemAllocator _uncached = null!;
    private long _size;

    /// <summary>Pages per allocation: 1 page, 1 MiB, 64 MiB, 1 GiB (4 KiB pages).</summary>
    [Params(1, 256, 16384, 262144)]
    public int Pages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _size = Pages * (long)SystemPage.Size;
        _allocator = new UmemAllocator(new UmemAllocatorOptions { Name = Name });
        _uncached = new UmemAllocator(new UmemAllocatorOptions { Name = Name + "-uncached", CacheBytes = 0 });
        UmemCookie cookie = _uncached.Alloc(_size, UmemFlags.Pageable);
        int fds = new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Count(f => f.LinkTarget is { } t && t.StartsWith($"/memfd:{Name}-uncached ", StringComparison.Ordinal));
        int vmas = File.ReadLines("/proc/self/maps").Count(l => l.Contains($"/memfd:{Name}-uncached", StringComparison.Ordinal));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// {Pages} pages: grant unit {cookie.GrantBytes} bytes, {fds} fds and {vmas} VMAs per allocation (raw memfd path: 1 and 1)"));
        _uncached.Free(cookie);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _allocator.Dispose();
        _uncached.Dispose();
    }

    [Benchmark(Description = "Umem alloc+touch+free")]
    public void Umem() => AllocTouchFree.Umem(_allocator, _size, UmemFlags.Pageable);

    [Benchmark(Description = "Umem alloc+touch+free, cache off")]
    public void UmemUncached() => AllocTouchFree.Umem(_uncached, _size, UmemFlags.Pageable);

    [Benchmark(Baseline = true, Description = "raw memfd+ftruncate+mmap+touch+munmap+close")]
    public void RawMemfd() => AllocTouchFree.Raw(_size, locked: false);
}
