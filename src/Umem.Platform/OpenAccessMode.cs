namespace Umem.Platform;

/// <summary>open(2)'s access modes (the <c>O_ACCMODE</c> bits of <c>oflags</c>), for layers that take them from elsewhere.</summary>
public static class OpenAccessMode
{
    /// <summary>O_ACCMODE: the bits that hold the access mode.</summary>
    public const int Mask = Interop.O_ACCMODE;

    /// <summary>O_RDONLY.</summary>
    public const int ReadOnly = Interop.O_RDONLY;

    /// <summary>O_WRONLY.</summary>
    public const int WriteOnly = Interop.O_WRONLY;

    /// <summary>O_RDWR.</summary>
    public const int ReadWrite = Interop.O_RDWR;
}
