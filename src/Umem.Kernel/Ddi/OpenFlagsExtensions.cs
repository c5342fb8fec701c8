using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>Conversions for <see cref="OpenFlags"/>.</summary>
public static class OpenFlagsExtensions
{
    /// <summary>The data model in an ioctl mode (<c>mode &amp; FMODELS</c>), for ddi_model_convert_from(9F).</summary>
    public static DataModel GetModel(this OpenFlags mode) => (DataModel)(mode & OpenFlags.Models);

    /// <summary>
    /// open(2)'s access mode to FREAD/FWRITE: O_RDONLY (0) → FREAD, O_WRONLY (1) → FWRITE, O_RDWR (2) → both.
    /// Any other bit, or access mode 3, is EINVAL.
    /// </summary>
    public static OpenFlags FromOpenMode(int oflags) =>
        (oflags & ~OpenAccessMode.Mask) != 0
            ? throw new ErrnoException(Errno.EINVAL, $"open(oflags=0x{oflags:x})", "only O_RDONLY, O_WRONLY and O_RDWR are accepted")
            : (oflags & OpenAccessMode.Mask) switch
            {
                OpenAccessMode.ReadOnly => OpenFlags.Read,
                OpenAccessMode.WriteOnly => OpenFlags.Write,
                OpenAccessMode.ReadWrite => OpenFlags.Read | OpenFlags.Write,
                _ => throw new ErrnoException(Errno.EINVAL, $"open(oflags=0x{oflags:x})", "access mode 3 is not a valid open mode"),
            };

    /// <summary>"FREAD|FWRITE" and the like.</summary>
    public static string Format(this OpenFlags flags)
    {
        var parts = new List<string>(3);
        if ((flags & OpenFlags.Read) != 0) parts.Add("FREAD");
        if ((flags & OpenFlags.Write) != 0) parts.Add("FWRITE");
        var model = flags.GetModel();
        if (model != DataModel.None) parts.Add(model == DataModel.ILP32 ? "FILP32" : model == DataModel.LP64 ? "FLP64" : $"model 0x{(int)model:x}");
        return parts.Count == 0 ? "0" : string.Join('|', parts);
    }
}
