namespace Umem.Cli.Commands;

/// <summary>Finds driver assemblies: a path as given, or the name of a driver shipped beside the CLI (drivers/NAME/).</summary>
internal static class DriverPaths
{
    internal static string Resolve(string driver)
    {
        if (File.Exists(driver)) return Path.GetFullPath(driver);
        string dir = Path.Combine(AppContext.BaseDirectory, "drivers", driver);
        if (Directory.Exists(dir))
        {
            var dlls = Directory.GetFiles(dir, "Umem.Drivers.*.dll");
            if (dlls.Length == 1) return dlls[0];
        }
        throw new FileNotFoundException($"no driver \"{driver}\": neither a file nor a driver shipped in {Path.Combine(AppContext.BaseDirectory, "drivers")}");
    }
}
