using System.Globalization;

namespace Umem.Kernel.Ddi;

/// <summary>
/// A device number (<c>dev_t</c>): a major number naming the driver and a minor number the driver chooses. As on
/// a 64-bit illumos kernel (NBITSMAJOR64/NBITSMINOR64), each half is 32 bits. Build one with
/// <see cref="Sunddi.MakeDevice"/> (makedevice(9F)); split it with <see cref="Sunddi.GetMajor"/> and
/// <see cref="Sunddi.GetMinor"/> (getmajor(9F), getminor(9F)).
/// </summary>
public readonly record struct DevT
{
    private const int MinorBits = 32;

    /// <summary>A dev_t from its raw 64-bit value.</summary>
    public DevT(ulong value) => Value = value;

    /// <summary>The raw 64-bit value (major in the high 32 bits).</summary>
    public ulong Value { get; }

    /// <summary>The major number (getmajor(9F)).</summary>
    public uint Major => (uint)(Value >> MinorBits);

    /// <summary>The minor number (getminor(9F)).</summary>
    public uint Minor => (uint)Value;

    /// <summary>NODEV: no device.</summary>
    public static DevT NoDev { get; } = new(ulong.MaxValue);

    internal static DevT Make(uint major, uint minor) => new(((ulong)major << MinorBits) | minor);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Major},{Minor})");
}
