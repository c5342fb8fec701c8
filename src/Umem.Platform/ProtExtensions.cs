namespace Umem.Platform;

/// <summary>Formatting for <see cref="Prot"/>.</summary>
public static class ProtExtensions
{
    /// <summary>"PROT_READ|PROT_WRITE|PROT_USER", "PROT_NONE", ...</summary>
    public static string Format(this Prot prot)
    {
        if (prot == Prot.None) return "PROT_NONE";
        var parts = new List<string>(4);
        if ((prot & Prot.Read) != 0) parts.Add("PROT_READ");
        if ((prot & Prot.Write) != 0) parts.Add("PROT_WRITE");
        if ((prot & Prot.Exec) != 0) parts.Add("PROT_EXEC");
        if ((prot & Prot.User) != 0) parts.Add("PROT_USER");
        int rest = (int)prot & ~(int)Prot.All;
        if (rest != 0) parts.Add($"0x{rest:x}");
        return string.Join('|', parts);
    }

    /// <summary>"rwx"-style letters as pmap(1) prints them ("r-x", "rw-", "---").</summary>
    public static string ToLetters(this Prot prot) => string.Create(3, prot, static (span, p) =>
    {
        span[0] = (p & Prot.Read) != 0 ? 'r' : '-';
        span[1] = (p & Prot.Write) != 0 ? 'w' : '-';
        span[2] = (p & Prot.Exec) != 0 ? 'x' : '-';
    });
}
