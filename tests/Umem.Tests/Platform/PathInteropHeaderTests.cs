using System.Runtime.InteropServices;
using Umem.Platform;

namespace Umem.Tests.Platform;

/// <summary>
/// The constants and the statx layout behind <see cref="TrustedPath"/>, <see cref="ProcessDirectory"/> and
/// <see cref="PeerProcess"/>, checked against the system C headers. (Debian 12's headers predate SO_PEERPIDFD, Linux 6.5:
/// PeerIdentityProcessTests checks it against the running kernel instead.)
/// </summary>
public sealed class PathInteropHeaderTests
{
    [Fact]
    public void ConstantsMatchTheCHeaders()
    {
        (string Name, long Value)[] constants =
        [
            ("O_NONBLOCK", Interop.O_NONBLOCK),
            ("O_PATH", Interop.O_PATH),
            ("O_DIRECTORY", Interop.O_DIRECTORY),
            ("O_NOFOLLOW", Interop.O_NOFOLLOW),
            ("AT_SYMLINK_NOFOLLOW", Interop.AT_SYMLINK_NOFOLLOW),
            ("AT_EMPTY_PATH", Interop.AT_EMPTY_PATH),
            ("STATX_BASIC_STATS", Interop.STATX_BASIC_STATS),
            ("S_IFMT", Interop.S_IFMT),
            ("S_IFDIR", Interop.S_IFDIR),
            ("S_IFREG", Interop.S_IFREG),
            ("S_IFLNK", Interop.S_IFLNK),
            ("S_ISVTX", Interop.S_ISVTX),
            ("SO_PEERCRED", Interop.SO_PEERCRED),
            ("ESRCH", (long)Errno.ESRCH),
        ];
        AssertSameInC(["fcntl.h", "sys/stat.h", "sys/socket.h", "errno.h"], constants);
    }

    [Fact]
    public unsafe void StatxLayoutMatchesTheCHeader()
    {
        var layouts = new (string Expression, long Value)[]
        {
            ("sizeof(struct statx)", sizeof(Interop.struct_statx)),
            ("offsetof(struct statx, stx_uid)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_uid")),
            ("offsetof(struct statx, stx_gid)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_gid")),
            ("offsetof(struct statx, stx_mode)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_mode")),
            ("offsetof(struct statx, stx_ino)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_ino")),
            ("offsetof(struct statx, stx_mtime)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_mtime")),
            ("offsetof(struct statx, stx_dev_major)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_dev_major")),
            ("offsetof(struct statx, stx_dev_minor)", (long)Marshal.OffsetOf<Interop.struct_statx>("stx_dev_minor")),
        };
        AssertSameInC(["stddef.h", "sys/stat.h"], layouts);
    }

    private static void AssertSameInC(string[] headers, (string Expression, long Value)[] expected)
    {
        var values = CProbe.PrintLongs(headers, [.. expected.Select(e => e.Expression)]);
        foreach (var (e, v) in expected)
            Assert.True(values[e] == v, $"{e}: C says {values[e]}, C# says {v}");
    }
}
