using System.Globalization;

namespace Umem.Tests.Host;

/// <summary>
/// What the hostile client (TestApp <c>attack</c>) must report, attack by attack: the errnos this kernel gives to
/// each way of writing through a read-only grant, and to each way of resizing or resealing a read-write one.
/// </summary>
internal static class AttackExpectations
{
    /// <summary>
    /// The read-only grant held: one O_RDONLY fd of <paramref name="size"/> bytes reading 60, and no way to write
    /// through it (mmap, mprotect, reopen, fchmod, truncate, punch, seals).
    /// </summary>
    internal static void ReadOnlyGrantHeld(IReadOnlyDictionary<string, string> results, long size)
    {
        Assert.Equal("OK", results["mmap-request-read"]);
        Assert.Equal(size.ToString(CultureInfo.InvariantCulture), results["size"]); // the fd reaches no further than the grant
        Assert.Equal("0", results["accmode"]); // O_RDONLY
        Assert.Equal("EACCES", results["mmap-shared-write"]);
        Assert.Equal("OK", results["mmap-shared-read"]);
        Assert.Equal("60", results["byte"]);
        Assert.Equal("EACCES", results["mprotect-write"]);
        Assert.Equal("EACCES", results["reopen-rdwr"]);
        Assert.Equal("EPERM", results["fchmod"]);
        Assert.Equal("EINVAL", results["ftruncate-shrink"]); // not open for writing
        Assert.Equal("EINVAL", results["ftruncate-grow"]);
        Assert.Equal("EBADF", results["punch-hole"]);
        Assert.Equal("EPERM", results["add-seals"]);
    }

    /// <summary>The read-write grant was given, and its seals still stop resizing and resealing (the host never faults).</summary>
    internal static void ReadWriteGrantSealed(IReadOnlyDictionary<string, string> results)
    {
        Assert.Equal("OK", results["rw-mmap-request"]);
        Assert.Equal("EPERM", results["rw-ftruncate-shrink"]); // F_SEAL_SHRINK
        Assert.Equal("EPERM", results["rw-ftruncate-grow"]); // F_SEAL_GROW
        Assert.Equal("EPERM", results["rw-add-seals"]); // F_SEAL_SEAL: cannot lock the host out of writing
        Assert.Equal("EPERM", results["rw-fchmod"]);
    }
}
