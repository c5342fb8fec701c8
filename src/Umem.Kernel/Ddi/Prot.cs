namespace Umem.Kernel.Ddi;

/// <summary>Mapping protections (sys/mman.h), with the DDI's values.</summary>
[Flags]
public enum Prot
{
    /// <summary>PROT_NONE (0).</summary>
    None = 0,

    /// <summary>PROT_READ (0x1).</summary>
    Read = 0x1,

    /// <summary>PROT_WRITE (0x2).</summary>
    Write = 0x2,

    /// <summary>PROT_EXEC (0x4).</summary>
    Exec = 0x4,

    /// <summary>
    /// PROT_USER (0x8): kernel-only, "accessible from user mode". mmap(2) adds it to every request, so a driver's
    /// maxprot for devmap_umem_setup(9F) must include it (hence every example passes <see cref="All"/>).
    /// </summary>
    User = 0x8,

    /// <summary>PROT_ALL (0xF): read, write, execute and user.</summary>
    All = Read | Write | Exec | User,
}

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
