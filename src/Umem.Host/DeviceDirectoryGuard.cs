using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// Makes the device directory safe before any node is published in it, as sshd's StrictModes checks a user's
/// files. Clients find nodes by path, so whoever can rename the directory or any directory above it could move
/// the host's directory aside and put a socket of their own in a node's place (say a user who made /tmp/umem
/// before a host started with --dev-dir /tmp/umem/dev). So:
/// <list type="bullet">
/// <item>no component of the path is a symbolic link;</item>
/// <item>every directory above it is owned by root or the host's uid and writable by no one else, unless it
/// is sticky (/tmp is a fine parent: others cannot rename what they do not own there);</item>
/// <item>the directory itself is a directory owned by the host's uid that group and other cannot write.</item>
/// </list>
/// What is missing is created: the device directory 0755 (clients of any uid must reach the sockets), the
/// directories above it 0755 for a root host and 0700 otherwise (a host that is not root serves its own uid,
/// as under $XDG_RUNTIME_DIR). Anything else refuses the start with an <see cref="ErrnoException"/> naming
/// the offending directory and the way out.
/// </summary>
public static class DeviceDirectoryGuard
{
    /// <summary>The mode the device directory is created with (0755).</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const string Remedy = "remove it or choose another device directory (umem host --dev-dir)";

    /// <summary>Creates or checks <paramref name="path"/> for a host running as this process's effective uid.</summary>
    public static void Prepare(string path) => Prepare(path, ProcessHardening.EffectiveUid);

    /// <summary>Creates or checks <paramref name="path"/> for a host running as <paramref name="hostUid"/>.</summary>
    public static void Prepare(string path, uint hostUid)
    {
        using var fd = TrustedPath.CreateDirectory(path, hostUid, Mode, hostUid == 0 ? Mode : PrivateMode, out var status, Remedy);
        if (status.Uid != hostUid)
            throw TrustedPath.Fail(Errno.EPERM, path, $"{path} is owned by uid {status.Uid}, not the host's uid {hostUid}", Remedy);
        if (status.IsWritableByGroupOrOther)
            throw TrustedPath.Fail(Errno.EPERM, path, $"{path} is writable by group or other (mode {status.Permissions})",
                "chmod 755 it, or choose another device directory (umem host --dev-dir)");
    }
}
