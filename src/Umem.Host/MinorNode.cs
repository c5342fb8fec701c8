namespace Umem.Host;

/// <summary>
/// A minor node a driver created (ddi_create_minor_node(9F)), published as a socket in the device directory.
/// </summary>
/// <param name="Name">The file name in the device directory (e.g. "xx0"); no '/', not starting with '.'.</param>
/// <param name="OwnerUid">The node's owner.</param>
/// <param name="OwnerGid">The node's group.</param>
/// <param name="Mode">Permission bits (e.g. 0666), checked as open(2) checks a device node's.</param>
public sealed record MinorNode(string Name, uint OwnerUid, uint OwnerGid, UnixFileMode Mode)
{
    /// <summary>
    /// The socket file's mode: connect(2) needs write permission on a socket, so every class that may open
    /// the node at all (read or write) gets read and write; OPEN then checks the node's exact mode.
    /// </summary>
    public UnixFileMode SocketMode
    {
        get
        {
            var m = UnixFileMode.None;
            if ((Mode & (UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0) m |= UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if ((Mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite)) != 0) m |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
            if ((Mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0) m |= UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            return m;
        }
    }

    /// <summary>
    /// open(2)'s permission check on a device node: root passes; otherwise the owner, group (primary or
    /// supplementary) or other bits must grant read for reading and write for writing.
    /// </summary>
    public bool Allows(uint uid, uint gid, IReadOnlyCollection<uint> groups, OpenMode mode)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (uid == 0) return true;
        UnixFileMode r, w;
        if (uid == OwnerUid) (r, w) = (UnixFileMode.UserRead, UnixFileMode.UserWrite);
        else if (gid == OwnerGid || groups.Contains(OwnerGid)) (r, w) = (UnixFileMode.GroupRead, UnixFileMode.GroupWrite);
        else (r, w) = (UnixFileMode.OtherRead, UnixFileMode.OtherWrite);
        return (!mode.CanRead() || (Mode & r) != 0) && (!mode.CanWrite() || (Mode & w) != 0);
    }

    /// <summary>Throws for a name that is not a plain file name.</summary>
    internal void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Contains('/', StringComparison.Ordinal) || Name.Contains('\0', StringComparison.Ordinal) || Name[0] == '.')
            throw new ArgumentException($"minor node name \"{Name}\" must be a plain file name not starting with '.'", nameof(Name));
        if ((Mode & ~(UnixFileMode)0x1FF) != 0)
            throw new ArgumentException($"minor node mode {Convert.ToString((int)Mode, 8)} has bits beyond 0777", nameof(Mode));
    }
}

/// <summary>The access mode of an OPEN: O_RDONLY (0), O_WRONLY (1), O_RDWR (2).</summary>
public enum OpenMode
{
    /// <summary>O_RDONLY.</summary>
    ReadOnly = 0,

    /// <summary>O_WRONLY.</summary>
    WriteOnly = 1,

    /// <summary>O_RDWR.</summary>
    ReadWrite = 2,
}

/// <summary>FREAD/FWRITE of an <see cref="OpenMode"/>.</summary>
public static class OpenModeExtensions
{
    /// <summary>FREAD: opened for reading.</summary>
    public static bool CanRead(this OpenMode mode) => mode != OpenMode.WriteOnly;

    /// <summary>FWRITE: opened for writing.</summary>
    public static bool CanWrite(this OpenMode mode) => mode != OpenMode.ReadOnly;
}
