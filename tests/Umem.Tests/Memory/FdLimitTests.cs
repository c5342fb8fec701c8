using System.Diagnostics;
using Umem.Kernel.Memory;
using Umem.Platform;
using static Umem.Tests.Memory.MemoryTestSupport;

namespace Umem.Tests.Memory;

/// <summary>
/// The memfds an allocation needs are checked against the allocator's fd and mapping limits before the OS is asked:
/// ENOMEM at once for what can never fit, NOSLEEP when they are in use; SLEEP waits for memfds to come back. When
/// the OS refuses anyway (RLIMIT_NOFILE lowered under the allocator), everything is rolled back.
/// </summary>
public sealed class FdLimitTests
{
    private static readonly long Page = SystemPage.Size;

    private const string ChildVariable = "UMEM_TEST_FD_LIMIT_CHILD";

    [Fact]
    public void MoreMemfdsThanTheLimitFailAtOnceEvenForSleep()
    {
        string name = $"umem-fdlim-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, MaxFds = 100, CacheBytes = 0 });
        foreach (var flags in new[] { UmemFlags.Pageable, UmemFlags.Pageable | UmemFlags.NoSleep })
        {
            var e = Await(Task.Run(() => Assert.Throws<ErrnoException>(() => allocator.Alloc(1L << 20, flags, grantPages: 1))));
            Assert.Equal(Errno.ENOMEM, e.Errno);
            Assert.Contains("needs 256 memfds", e.Message, StringComparison.Ordinal);
        }
        Assert.False(allocator.TryAlloc(1L << 20, UmemFlags.Pageable, out _, grantPages: 1));
        Assert.Equal(0, FdsNamed(name)); // the OS was never asked
        var stats = allocator.GetStatistics();
        Assert.Equal((0L, 0L, 0L), (stats.Memfds, stats.PeakMemfds, stats.OsRefusals));

        // The same size in the default units fits.
        var cookie = allocator.Alloc(1L << 20, UmemFlags.Pageable);
        Assert.Equal(64, allocator.GetStatistics().Memfds);
        allocator.Free(cookie);
    }

    [Fact]
    public void AOneGiBSleepInPageUnitsFailsAtOnceWithTheDefaultLimits()
    {
        // Once this looped for 71 s making memfds up to EMFILE, rolling back and trying again, and then died.
        string name = $"umem-1g-pages-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name });
        Assert.True(allocator.Options.MaxFds < 262_144 || allocator.Options.MaxMappings < 262_144);
        var e = Await(Task.Run(() => Assert.Throws<ErrnoException>(() => allocator.Alloc(1L << 30, UmemFlags.Pageable, grantPages: 1))));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("needs 262144 memfds", e.Message, StringComparison.Ordinal);
        Assert.Contains("ask for larger grant units", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, FdsNamed(name));
        Assert.Equal((0L, 0L), (allocator.GetStatistics().PeakMemfds, allocator.GetStatistics().OsRefusals));
    }

    [Fact]
    public void MemfdsInUseRefuseNoSleepAndMakeSleepWait()
    {
        string name = $"umem-fdwait-{Guid.NewGuid():N}";
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, MaxFds = 100, CacheBytes = 0 });
        var held = allocator.Alloc(64 * Page, UmemFlags.Pageable); // 64 page units
        var e = Assert.Throws<ErrnoException>(() => allocator.Alloc(40 * Page, UmemFlags.Pageable | UmemFlags.NoSleep));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("64 of 100 memfds in use, 40 wanted", e.Message, StringComparison.Ordinal);

        var waiting = Task.Factory.StartNew(() => allocator.Alloc(40 * Page, UmemFlags.Pageable), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        WaitForWaiters(allocator, 1);
        Assert.Equal(64, FdsNamed(name));
        allocator.Free(held);
        var cookie = Await(waiting);
        Assert.Equal(40, allocator.GetStatistics().Memfds);
        Assert.Equal(0, allocator.GetStatistics().OsRefusals);
        allocator.Free(cookie);
    }

    [Fact]
    public void TheMappingLimitCountsToo()
    {
        using var allocator = new UmemAllocator(new UmemAllocatorOptions { MaxMappings = 10, CacheBytes = 0 });
        var e = Assert.Throws<ErrnoException>(() => allocator.Alloc(11 * Page, UmemFlags.Pageable));
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Contains("MaxMappings 10", e.Message, StringComparison.Ordinal);
        var cookie = allocator.Alloc(11 * Page, UmemFlags.Pageable, grantPages: 2); // 6 memfds
        allocator.Free(cookie);
    }

    /// <summary>
    /// RLIMIT_NOFILE is process-wide, so this runs in a child: this test assembly again, filtered to this test,
    /// which there lowers the limit under the allocator's and lets the OS refuse memfd_create with EMFILE.
    /// </summary>
    [Fact]
    public async Task TheOsFdLimitIsACleanErrnoAndTheAllocatorStaysUsable()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) == "1")
        {
            InChild();
            return;
        }
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(FdLimitTests).Assembly.Location);
        foreach (string a in new[] { "-method", $"{typeof(FdLimitTests).FullName}.{nameof(TheOsFdLimitIsACleanErrnoAndTheAllocatorStaysUsable)}" })
            start.ArgumentList.Add(a);
        start.Environment[ChildVariable] = "1";
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await child.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        string output = await stdout;
        Assert.True(child.ExitCode == 0, $"child exit {child.ExitCode}\n{output}\n{await stderr}");
        Assert.Contains("Total: 1, Errors: 0, Failed: 0", output, StringComparison.Ordinal); // it ran, and passed
    }

    private static unsafe void InChild()
    {
        string name = $"umem-emfile-{Guid.NewGuid():N}";
        Interop.rlimit saved;
        Assert.Equal(0, Interop.getrlimit(Interop.RLIMIT_NOFILE, &saved));
        int open = Directory.GetFiles("/proc/self/fd").Length;
        var lowered = new Interop.rlimit { rlim_cur = (ulong)open + 100, rlim_max = saved.rlim_max };
        Assert.Equal(0, Interop.setrlimit(Interop.RLIMIT_NOFILE, &lowered));
        try
        {
            // The allocator's own limit (half the hard limit) is far above: the OS refuses first.
            using var allocator = new UmemAllocator(new UmemAllocatorOptions { Name = name, MaxFds = 10_000, CacheBytes = 0 });
            var held = allocator.Alloc(64 * Page, UmemFlags.Pageable); // 64 fds of the ~100 left

            var nosleep = Assert.Throws<ErrnoException>(() => allocator.Alloc(64 * Page, UmemFlags.Pageable | UmemFlags.NoSleep));
            Assert.Equal(Errno.EMFILE, nosleep.Errno);
            Assert.Equal(64, FdsNamed(name)); // rolled back: no memfd of the failed attempt is left
            Assert.Equal(64, MappingsNamed(name));

            // More memfds than RLIMIT_NOFILE allows in all: SLEEP fails at once too, no retry loop.
            var sleep = Await(Task.Run(() => Assert.Throws<ErrnoException>(() => allocator.Alloc(4L << 20, UmemFlags.Pageable, grantPages: 1))));
            Assert.Equal(Errno.EMFILE, sleep.Errno);
            Assert.Contains("RLIMIT_NOFILE", sleep.Message, StringComparison.Ordinal);

            var stats = allocator.GetStatistics();
            Assert.Equal((64L, 64L * Page, 0, 2L), (stats.Memfds, stats.TotalBytes, stats.Waiters, stats.OsRefusals));
            Assert.Equal(64, FdsNamed(name));

            allocator.Free(held);
            var again = allocator.Alloc(64 * Page, UmemFlags.Pageable | UmemFlags.NoSleep); // usable after
            allocator.Free(again);
            Assert.Equal((0, 0L), (FdsNamed(name), allocator.GetStatistics().TotalBytes));
        }
        finally
        {
            Assert.Equal(0, Interop.setrlimit(Interop.RLIMIT_NOFILE, &saved));
        }
    }
}
