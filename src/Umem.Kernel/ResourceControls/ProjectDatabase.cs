using System.Collections.Immutable;

namespace Umem.Kernel.ResourceControls;

/// <summary>
/// A parsed project file (project(5)). Immutable: a new file gives a new database, which replaces the old one
/// whole or not at all.
/// </summary>
public sealed class ProjectDatabase
{
    private readonly Dictionary<string, ProjectEntry> _byName;
    private readonly Dictionary<int, ProjectEntry> _byId;

    internal ProjectDatabase(string path, ImmutableArray<ProjectEntry> entries)
    {
        Path = path;
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _byId = entries.ToDictionary(e => e.Id);
    }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }

    /// <summary>The projects in file order.</summary>
    public ImmutableArray<ProjectEntry> Entries { get; }

    /// <summary>Reads and validates <paramref name="path"/>; throws <see cref="ConfigFileException"/> naming every bad field.</summary>
    public static ProjectDatabase Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException([new ConfigFileError(path, 0, "file", e.Message)]);
        }
        return Parse(text, path);
    }

    /// <summary>Parses project-file text; <paramref name="fileName"/> is used in error messages.</summary>
    public static ProjectDatabase Parse(string text, string fileName) =>
        new(fileName, ProjectFileParser.Parse(text, fileName));

    public ProjectEntry? FindByName(string name) => _byName.GetValueOrDefault(name);

    public ProjectEntry? FindById(int id) => _byId.GetValueOrDefault(id);

    /// <summary>A project by name, or by id when <paramref name="nameOrId"/> is a number (prctl's -i project ID).</summary>
    public ProjectEntry? Find(string nameOrId) =>
        FindByName(nameOrId) ?? (int.TryParse(nameOrId, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int id) ? FindById(id) : null);
}
