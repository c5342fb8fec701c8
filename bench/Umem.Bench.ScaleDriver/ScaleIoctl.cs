namespace Umem.Bench.ScaleDriver;

/// <summary>
/// The ioctl(9E) commands of the <c>scale</c> driver (this file is also compiled into the benchmark, which issues
/// them through the client library).
/// </summary>
public static class ScaleIoctl
{
    /// <summary>The node the driver creates.</summary>
    public const string NodeName = "scale0";

    /// <summary>ioctl: in = i32 count; allocates one-page cookies until the driver holds count; rval = cookies held.</summary>
    public const uint Alloc = 0x5301;

    /// <summary>ioctl: no input; rval = cookies held.</summary>
    public const uint Count = 0x5302;

    /// <summary>The most cookies the driver will hold (ENOMEM would come first with the default budget anyway).</summary>
    public const int MaxCookies = 1 << 20;
}
