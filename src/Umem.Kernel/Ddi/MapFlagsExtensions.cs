namespace Umem.Kernel.Ddi;

/// <summary>Formatting for <see cref="MapFlags"/>.</summary>
public static class MapFlagsExtensions
{
    /// <summary>"MAP_SHARED", "MAP_PRIVATE" or the raw value.</summary>
    public static string Format(this MapFlags flags) => flags switch
    {
        MapFlags.Shared => "MAP_SHARED",
        MapFlags.Private => "MAP_PRIVATE",
        _ => $"0x{(int)flags:x}",
    };
}
