using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// Application memory a client registered (REGISTER): the client's memfd, mapped by the host as well, so a driver
/// locking [ClientAddress, ClientAddress+Length) of that client reaches the very pages the application uses.
/// </summary>
public sealed class RegisteredBuffer : IDisposable
{
    private readonly MappedRegion _region;

    internal RegisteredBuffer(ulong clientAddress, long length, SafeFd fd, MappedRegion region)
    {
        ClientAddress = clientAddress;
        Length = length;
        Fd = fd;
        _region = region;
    }

    /// <summary>Where the buffer lies in the client's address space.</summary>
    public ulong ClientAddress { get; }

    /// <summary>Bytes (whole pages).</summary>
    public long Length { get; }

    /// <summary>Where the host mapped it.</summary>
    public nint HostAddress => _region.Address;

    /// <summary>The client's memfd (sealed against shrinking).</summary>
    public SafeFd Fd { get; }

    /// <summary>True when [address, address+length) of the client lies inside this buffer.</summary>
    public bool Contains(ulong address, ulong length) =>
        address >= ClientAddress && length <= (ulong)Length && address - ClientAddress <= (ulong)Length - length;

    /// <summary>Part of the buffer as seen by the host.</summary>
    public unsafe Span<byte> GetSpan(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length - length) throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is outside the buffer's {Length} bytes");
        return new Span<byte>((byte*)_region.Address + offset, length);
    }

    /// <summary>Unmaps the host's view and closes the memfd.</summary>
    public void Dispose()
    {
        _region.Dispose();
        Fd.Dispose();
    }
}
