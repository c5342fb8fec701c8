using System.IO.MemoryMappedFiles;

namespace Umem.SyncPeer;

/// <summary>
/// Another process's memfd, opened through /proc/PID/fd/N and mapped MAP_SHARED (read-only when asked: the
/// mapping then has PROT_READ only, so any store through it would fault).
/// </summary>
internal sealed unsafe class SharedFile : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public SharedFile(string path, bool writable)
    {
        var access = writable ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read;
        var stream = new FileStream(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
        Length = stream.Length;
        _file = MemoryMappedFile.CreateFromFile(stream, null, 0, access, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, 0, access);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Address = (nint)(p + _view.PointerOffset);
    }

    public nint Address { get; }

    public long Length { get; }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
