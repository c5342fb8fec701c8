using System.Globalization;

namespace Umem.Kernel.Ddi;

/// <summary>
/// Who may open a minor node, as the owner, group and mode of a /dev node (in illumos /etc/minor_perm's job).
/// The host gives the node's socket the same owner and mode.
/// </summary>
/// <param name="Uid">The owner.</param>
/// <param name="Gid">The group.</param>
/// <param name="Mode">The permission bits.</param>
public sealed record NodeAccess(uint Uid, uint Gid, UnixFileMode Mode)
{
    /// <summary>root, group root, 0600: what a node gets when the driver says nothing.</summary>
    public static NodeAccess Default { get; } = new(0, 0, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>A mode from octal digits as chmod(1) takes them ("0666", "640").</summary>
    public static NodeAccess FromOctal(string mode, uint uid = 0, uint gid = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(mode);
        int bits = Convert.ToInt32(mode, 8);
        if (bits is < 0 or > 0x1FF) throw new ArgumentOutOfRangeException(nameof(mode), mode, "permission bits are 0 to 0777");
        return new NodeAccess(uid, gid, (UnixFileMode)bits);
    }

    /// <summary>
    /// Whether <paramref name="cred"/> may open for <paramref name="flags"/>, as open(2) checks a device node's
    /// mode: the owner bits for the owner, else the group bits for a member of the group (primary or
    /// supplementary, groupmember(9F)), else the other bits; root always may.
    /// </summary>
    internal bool Allows(Cred cred, OpenFlags flags)
    {
        if (cred.Uid == 0) return true;
        int bits = (int)Mode;
        int granted = cred.Uid == Uid ? (bits >> 6) & 7 : cred.IsGroupMember(Gid) ? (bits >> 3) & 7 : bits & 7;
        int needed = ((flags & OpenFlags.Read) != 0 ? 4 : 0) | ((flags & OpenFlags.Write) != 0 ? 2 : 0);
        return (granted & needed) == needed;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Uid}:{Gid} 0{Convert.ToString((int)Mode, 8)}");
}
