namespace Umem.Kernel.Ddi;

/// <summary>
/// One line of a minor_perm(4) file: who may open the nodes of <paramref name="Driver"/> whose names match
/// <paramref name="Minor"/> (a name, or a pattern with <c>*</c>).
/// </summary>
/// <param name="Driver">The driver's (module's) name.</param>
/// <param name="Minor">The node name, or a pattern where <c>*</c> matches any run of characters.</param>
/// <param name="Mode">The permission bits.</param>
/// <param name="Uid">The owner; null: the host's default owner (root, or the host's own uid when it may not chown).</param>
/// <param name="Gid">The group; null: the host's default group.</param>
public sealed record MinorPermEntry(string Driver, string Minor, UnixFileMode Mode, uint? Uid, uint? Gid)
{
    /// <summary>Whether the entry names the node <paramref name="minor"/> of <paramref name="driver"/>.</summary>
    public bool Matches(string driver, string minor) =>
        string.Equals(driver, Driver, StringComparison.Ordinal) && Glob(Minor, minor);

    internal bool IsExact => !Minor.Contains('*', StringComparison.Ordinal);

    private static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        int star = pattern.IndexOf('*');
        if (star < 0) return pattern.SequenceEqual(name);
        if (!name.StartsWith(pattern[..star])) return false;
        var rest = pattern[(star + 1)..];
        for (int i = star; i <= name.Length; i++)
        {
            if (Glob(rest, name[i..])) return true;
        }
        return false;
    }

    public override string ToString() =>
        $"{Driver}:{Minor} 0{Convert.ToString((int)Mode, 8)} {Uid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} {Gid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";
}
