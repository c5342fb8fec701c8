using System.Text;
using Umem.Kernel.ResourceControls;

namespace Umem.Fuzz;

/// <summary>
/// The resource-control file parsers (project(5) and the zones file) on arbitrary text: a file is accepted or
/// refused whole with <see cref="ConfigFileException"/> (every error as file:line: field: message); anything else
/// thrown is a bug. What is accepted must be usable: ids unique, every locked-memory value in range.
/// </summary>
public static class ConfigFileTargets
{
    public static void Project(ReadOnlySpan<byte> data)
    {
        if (Parse(data, ProjectDatabase.Parse) is not { } db) return;
        if (db.Entries.Select(p => p.Id).Distinct().Count() != db.Entries.Length)
            throw new InvalidOperationException("project: duplicate ids accepted");
        foreach (var p in db.Entries)
        {
            if (db.FindById(p.Id) is null || db.FindByName(p.Name) is null)
                throw new InvalidOperationException($"project {p.Name} ({p.Id}) accepted but not found");
        }
    }

    public static void Zones(ReadOnlySpan<byte> data)
    {
        if (Parse(data, ZoneDatabase.Parse) is not { } db) return;
        if (db.Entries.IsEmpty || db.Global.Id != 0)
            throw new InvalidOperationException("zones: accepted without the global zone first");
        if (db.Entries.Select(z => z.Id).Distinct().Count() != db.Entries.Length)
            throw new InvalidOperationException("zones: duplicate ids accepted");
        foreach (var z in db.Entries)
        {
            if (db.FindById(z.Id) is null || db.FindByName(z.Name) is null)
                throw new InvalidOperationException($"zone {z.Name} ({z.Id}) accepted but not found");
        }
    }

    /// <summary>The parsed file, or null when it is refused properly (every error with its line).</summary>
    private static T? Parse<T>(ReadOnlySpan<byte> data, Func<string, string, T> parse) where T : class
    {
        try
        {
            return parse(Encoding.UTF8.GetString(data), "fuzz");
        }
        catch (ConfigFileException e)
        {
            CheckErrors(e);
            return null;
        }
    }

    private static void CheckErrors(ConfigFileException e)
    {
        if (e.Errors.Count == 0) throw new InvalidOperationException("a refusal without errors", e);
        foreach (var error in e.Errors)
        {
            if (error.Line < 1) throw new InvalidOperationException($"an error without a line: {error}", e);
        }
    }
}
