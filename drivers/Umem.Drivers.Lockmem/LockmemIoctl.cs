namespace Umem.Drivers.Lockmem;

/// <summary>
/// The driver's ioctl commands (its "header file"; applications declare the same numbers). Little-endian
/// arguments:
/// <list type="bullet">
/// <item><see cref="Lock"/>: in u64 user address, u64 length, u32 flags (DDI_UMEMLOCK_READ 1, WRITE 2,
/// LONGTERM 4); rval = the lock's index in this open file.</item>
/// <item><see cref="Unlock"/>: in u32 index.</item>
/// <item><see cref="Usage"/>: out u64 usage, u64 limit of the caller's project.max-locked-memory.</item>
/// </list>
/// </summary>
public static class LockmemIoctl
{
    /// <summary>('L' &lt;&lt; 8) | 1: lock part of a registered buffer.</summary>
    public const int Lock = ('L' << 8) | 1;

    /// <summary>('L' &lt;&lt; 8) | 2: unlock a lock this open file holds.</summary>
    public const int Unlock = ('L' << 8) | 2;

    /// <summary>('L' &lt;&lt; 8) | 3: the caller's project's locked-memory usage and limit.</summary>
    public const int Usage = ('L' << 8) | 3;

    /// <summary>Bytes of the LOCK input.</summary>
    public const int LockInputSize = 20;

    /// <summary>Bytes of the USAGE output.</summary>
    public const int UsageOutputSize = 16;
}
