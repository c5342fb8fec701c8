namespace Umem.Client.Sync;

/// <summary>
/// A ring reader fell more than a capacity behind and the writer reused bytes it had not read. The reader keeps
/// its position; <see cref="SharedRingReader.SkipToLatest"/> resumes with the newest bytes.
/// </summary>
public sealed class SharedRingOverrunException : Exception
{
    public SharedRingOverrunException(long position, long lostBytes, string message) : base(message)
    {
        Position = position;
        LostBytes = lostBytes;
    }

    public SharedRingOverrunException() : this("a shared ring reader was overrun")
    {
    }

    public SharedRingOverrunException(string message) : base(message)
    {
    }

    public SharedRingOverrunException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The reader's position when the overrun was found.</summary>
    public long Position { get; }

    /// <summary>Bytes from that position that can no longer be read (at least).</summary>
    public long LostBytes { get; }
}
