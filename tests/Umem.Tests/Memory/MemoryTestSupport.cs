using System.Globalization;
using Umem.Kernel.Memory;

namespace Umem.Tests.Memory;

/// <summary>Helpers for the memory tests: /proc readers and event waits with generous failure guards.</summary>
internal static class MemoryTestSupport
{
    /// <summary>A failure guard for waits on events, never a timing assertion.</summary>
    internal static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    /// <summary>Waits until the allocator has <paramref name="count"/> waiters in line.</summary>
    internal static void WaitForWaiters(UmemAllocator allocator, int count) =>
        Eventually.WaitUntil(() => allocator.GetStatistics().Waiters == count, $"{count} waiter(s) in line");

    /// <summary>Waits for a task with the guard; fails if it does not finish.</summary>
    internal static T Await<T>(Task<T> task)
    {
        Assert.True(task.Wait(Guard), "the task did not finish");
        return task.Result;
    }

    /// <summary>The sum of "Locked:" (bytes) over the /proc/self/smaps entries inside [address, address+length).</summary>
    internal static long LockedBytesIn(nint address, long length) => SumSmapsField(address, length, "Locked:");

    /// <summary>The sum of "Rss:" (bytes) over the /proc/self/smaps entries inside [address, address+length).</summary>
    internal static long ResidentBytesIn(nint address, long length) => SumSmapsField(address, length, "Rss:");

    private static long SumSmapsField(nint address, long length, string field)
    {
        ulong start = (ulong)address, end = start + (ulong)length;
        long total = 0;
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong lo)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hi))
            {
                inside = lo >= start && hi <= end;
                continue;
            }
            if (inside && line.StartsWith(field, StringComparison.Ordinal))
            {
                string kb = line[field.Length..].Trim();
                total += long.Parse(kb[..kb.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return total;
    }

    /// <summary>How many mappings of memfds called <paramref name="name"/> this process has (/proc/self/maps).</summary>
    internal static int MappingsNamed(string name) =>
        File.ReadLines("/proc/self/maps").Count(l => l.Contains($"/memfd:{name} ", StringComparison.Ordinal) || l.EndsWith($"/memfd:{name}", StringComparison.Ordinal));

    /// <summary>How many open fds of this process are memfds called <paramref name="name"/>.</summary>
    internal static int FdsNamed(string name) =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Count(f => f.LinkTarget is { } t && t.StartsWith($"/memfd:{name} ", StringComparison.Ordinal));

    /// <summary>True when every byte of the cookie is zero.</summary>
    internal static bool IsAllZero(UmemCookie cookie) => !cookie.Span.ContainsAnyExcept((byte)0);

    /// <summary>Writes a non-zero byte into every page of the cookie (and its last byte).</summary>
    internal static void Scribble(UmemCookie cookie, byte value = 0xA5)
    {
        var span = cookie.Span;
        for (int off = 0; off < span.Length; off += Umem.Platform.SystemPage.Size) span[off] = value;
        span[^1] = value;
    }

    /// <summary>Frees every cookie in the list.</summary>
    internal static void FreeAll(UmemAllocator allocator, IEnumerable<UmemCookie> cookies)
    {
        foreach (var c in cookies) allocator.Free(c);
    }
}
