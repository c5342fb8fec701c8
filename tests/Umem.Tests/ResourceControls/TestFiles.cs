namespace Umem.Tests.ResourceControls;

/// <summary>Temporary project and zones files for a test; deleted on dispose.</summary>
internal sealed class TestFiles : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("umem-rctl");

    public string Write(string name, string text)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
