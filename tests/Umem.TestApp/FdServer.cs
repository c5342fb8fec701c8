using System.Net.Sockets;
using Umem.Platform;

namespace Umem.TestApp;

/// <summary>
/// The floor a map request is measured against: a SEQPACKET server that answers every message with 16 bytes and
/// one memfd (one page, sealed), or without the memfd when its first byte is 1, or with a new sealed memfd of the
/// size in bytes 8-15 (little-endian) when its first byte is 2 (the raw path of a large allocation); no protocol, no
/// device behind it.
/// With a spin time it polls that long before each blocking receive, as the device host lingers (the fair floor
/// for a host that spins: a request that comes within the spin finds a server that never slept).
/// </summary>
internal static class FdServer
{
    internal static int Run(string path, TimeSpan spin)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        using var memfd = MemFd.CreateSealed("floor", SystemPage.Size);
        Console.WriteLine($"ready {Environment.ProcessId} {path}");
        Console.Out.Flush();
        var buffer = new byte[64];
        while (true)
        {
            using var channel = new SeqPacketChannel(listener.Accept());
            try
            {
                while (true)
                {
                    if (spin > TimeSpan.Zero) channel.PollReadable(spin, spin); // poll as the host lingers, then block in receive
                    var r = channel.Receive(buffer, null);
                    if (r.EndOfStream) break;
                    if (buffer[0] == 1) channel.Send(buffer.AsSpan(0, 16)); // a plain round trip
                    else if (buffer[0] == 2) SendNew(channel, buffer);
                    else channel.Send(buffer.AsSpan(0, 16), [memfd]);
                }
            }
            catch (ErrnoException)
            {
                // The client went away mid-message: wait for the next.
            }
        }
    }

    /// <summary>memfd_create + ftruncate + seals of the size asked, sent, and closed here.</summary>
    private static void SendNew(SeqPacketChannel channel, byte[] buffer)
    {
        using var fresh = MemFd.CreateSealed("floor-large", System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8)));
        channel.Send(buffer.AsSpan(0, 16), [fresh]);
    }
}
