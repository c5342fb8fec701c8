namespace Umem.Kernel.ResourceControls;

/// <summary>
/// Where the project and zones files are found when no path is given: <c>/etc/umem/project</c> and
/// <c>/etc/umem/zones</c> when they exist, otherwise the defaults shipped beside the program
/// (<c>etc/umem/project</c>: Solaris's stock projects, no limits).
/// </summary>
public static class ResourceControlFiles
{
    /// <summary>The system-wide project file.</summary>
    public const string SystemProjectFile = "/etc/umem/project";

    /// <summary>The system-wide zones file.</summary>
    public const string SystemZonesFile = "/etc/umem/zones";

    /// <summary>The system-wide minor_perm(4) file (who may open which node); used when it exists.</summary>
    public const string SystemMinorPermFile = "/etc/umem/minor_perm";

    /// <summary>The project file shipped with Umem.</summary>
    public static string ShippedProjectFile => Path.Combine(AppContext.BaseDirectory, "etc", "umem", "project");

    /// <summary>The zones file shipped with Umem.</summary>
    public static string ShippedZonesFile => Path.Combine(AppContext.BaseDirectory, "etc", "umem", "zones");

    /// <summary>The project file to use when none is named.</summary>
    public static string DefaultProjectFile => File.Exists(SystemProjectFile) ? SystemProjectFile : ShippedProjectFile;

    /// <summary>The zones file to use when none is named.</summary>
    public static string DefaultZonesFile => File.Exists(SystemZonesFile) ? SystemZonesFile : ShippedZonesFile;
}
