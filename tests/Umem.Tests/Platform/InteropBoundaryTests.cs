using Umem.Platform;
using Umem.Tests.Sync;

namespace Umem.Tests.Platform;

/// <summary>
/// libc is called from src/Umem.Platform only (docs/design.md, Layers): the other assemblies see Platform's
/// internals, <c>Interop</c> among them, so this keeps them to the named wrappers (AddressSpace, MemFd, Signals...).
/// </summary>
public sealed class InteropBoundaryTests
{
    [Fact]
    public void NoSourceOutsidePlatformCallsInterop()
    {
        string src = Path.Combine(SyncPaths.RepositoryRoot, "src");
        string platform = Path.Combine(src, "Umem.Platform") + Path.DirectorySeparatorChar;
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(platform, StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(l => l.Contains("Interop.", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(SyncPaths.RepositoryRoot, f))
            .ToList();
        Assert.True(offenders.Count == 0, $"Interop used outside src/Umem.Platform: {string.Join(", ", offenders)}");
    }

    /// <summary>
    /// The one protection type keeps its API's values (the DDI's, PROT_USER included) instead of naming Interop's;
    /// where it reaches mmap(2) and mprotect(2) as ints they must be Linux's (CHeaderTests checks Interop's).
    /// </summary>
    [Fact]
    public void ProtectionValuesHandedToTheOsAreLinuxs()
    {
        Assert.Equal(Interop.PROT_NONE, (int)Prot.None);
        Assert.Equal(Interop.PROT_READ, (int)Prot.Read);
        Assert.Equal(Interop.PROT_WRITE, (int)Prot.Write);
        Assert.Equal(Interop.PROT_EXEC, (int)Prot.Exec);
    }
}
