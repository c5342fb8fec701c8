namespace Umem.Tests.Host;

/// <summary>
/// What a host process holds for its clients and drivers: sockets (listening and connected), the allocator's memfds
/// ("memfd:umem") and their mappings, from /proc/PID (the tests run as root, so a non-dumpable host's files are
/// readable). The runtime's own fds and mappings (assemblies opened on first use, its "doublemapper" memfd for
/// JIT code, thread stacks) grow with the code that ran and are not counted.
/// </summary>
internal readonly record struct HostMemory(int Sockets, int Memfds, int MemfdVmas)
{
    private const string Umem = "/memfd:umem ";

    internal static HostMemory Of(int pid)
    {
        var links = Links(pid);
        int vmas = File.ReadLines($"/proc/{pid}/maps").Count(l => l.Contains(Umem, StringComparison.Ordinal));
        return new HostMemory(links.Count(l => l.StartsWith("socket:", StringComparison.Ordinal)), links.Count(l => l.StartsWith(Umem, StringComparison.Ordinal)), vmas);
    }

    /// <summary>Waits until the host's counts are <paramref name="before"/> again; fails showing its fds if they never are.</summary>
    internal static void WaitUntilBack(int pid, HostMemory before)
    {
        try
        {
            Eventually.WaitUntil(() => Of(pid) == before, "the host's sockets, memfds and their mappings back to where they were");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{Of(pid)}, not {before}; its fds: {string.Join(", ", Links(pid))}");
        }
    }

    private static List<string> Links(int pid) =>
        [.. new DirectoryInfo($"/proc/{pid}/fd").EnumerateFileSystemInfos().Select(f => f.LinkTarget ?? "")];
}
