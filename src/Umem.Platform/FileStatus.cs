namespace Umem.Platform;

/// <summary>What statx(2) says of one file: its identity (device and inode), type, owner and mode.</summary>
/// <param name="Device">The device the file is on (major in the high 32 bits, minor in the low 32).</param>
/// <param name="Inode">The inode number on that device.</param>
/// <param name="Mode">st_mode: file type and permission bits.</param>
/// <param name="Uid">The owner.</param>
/// <param name="Gid">The group.</param>
public readonly record struct FileStatus(ulong Device, ulong Inode, uint Mode, uint Uid, uint Gid)
{
    private const uint GroupOrOtherWrite = 0x12; // S_IWGRP | S_IWOTH

    /// <summary>S_ISDIR.</summary>
    public bool IsDirectory => (Mode & Interop.S_IFMT) == Interop.S_IFDIR;

    /// <summary>S_ISREG.</summary>
    public bool IsRegularFile => (Mode & Interop.S_IFMT) == Interop.S_IFREG;

    /// <summary>S_ISLNK (only an lstat-like call, <see cref="OfLink"/> or an O_PATH|O_NOFOLLOW fd, sees one).</summary>
    public bool IsSymbolicLink => (Mode & Interop.S_IFMT) == Interop.S_IFLNK;

    /// <summary>S_ISVTX: in a directory, only an entry's owner, the directory's owner and root may rename or remove it.</summary>
    public bool IsSticky => (Mode & Interop.S_ISVTX) != 0;

    /// <summary>Group or other may write (S_IWGRP or S_IWOTH).</summary>
    public bool IsWritableByGroupOrOther => (Mode & GroupOrOtherWrite) != 0;

    /// <summary>The file type in words, for messages ("directory", "FIFO", ...).</summary>
    public string TypeName => (Mode & Interop.S_IFMT) switch
    {
        0x1000 => "FIFO",
        0x2000 => "character device",
        0x4000 => "directory",
        0x6000 => "block device",
        0x8000 => "regular file",
        0xA000 => "symbolic link",
        0xC000 => "socket",
        _ => "file of unknown type",
    };

    /// <summary>The permission bits in octal, as ls and chmod spell them (e.g. "1777", "0755").</summary>
    public string Permissions => Convert.ToString(Mode & 0xFFF, 8).PadLeft(4, '0');

    /// <summary>The same file: same device and inode.</summary>
    public bool IsSameFile(in FileStatus other) => Device == other.Device && Inode == other.Inode;

    /// <summary>fstat: the file <paramref name="fd"/> refers to (an O_PATH fd too).</summary>
    public static FileStatus Of(SafeFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        return Get(fd, "", Interop.AT_EMPTY_PATH, $"statx({fd}, AT_EMPTY_PATH)");
    }

    /// <summary>lstat relative to a directory fd: a symbolic link is reported as itself, never followed.</summary>
    public static FileStatus OfLink(SafeFd directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(name);
        return Get(directory, name, Interop.AT_SYMLINK_NOFOLLOW, $"statx({directory}, \"{name}\", AT_SYMLINK_NOFOLLOW)");
    }

    private static unsafe FileStatus Get(SafeFd dir, string path, int flags, string call)
    {
        Interop.struct_statx st;
        if (Interop.statx(dir, path, flags, Interop.STATX_BASIC_STATS, &st) < 0) throw new ErrnoException(Interop.LastErrno, call);
        return new FileStatus(((ulong)st.stx_dev_major << 32) | st.stx_dev_minor, st.stx_ino, st.stx_mode, st.stx_uid, st.stx_gid);
    }
}
