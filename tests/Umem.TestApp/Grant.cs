using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.TestApp;

/// <summary>
/// What a read-write grant really is, seen with raw messages (no client library): HELLO, OPEN O_RDWR, MMAP of
/// OFFSET and LENGTH; prints "mmap ERRNO", then per fd received "fd I size BYTES" (lseek SEEK_END: how far the fd
/// reaches) and "fd I beyond N" (pread of one byte at its end: 0, nothing more to reach), then "done".
/// </summary>
internal static class Grant
{
    internal static int Run(string path, long offset, long length)
    {
        using var channel = SeqPacketChannel.Connect(path);
        var buf = new byte[Wire.MaxMessage];
        var fds = new List<SafeFd>();
        Attack.Exchange(channel, buf, new HelloRequest(1, 1).Write(buf, 1), fds);
        Attack.Exchange(channel, buf, new OpenRequest(2u).Write(buf, 2), fds);
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(Wire.ReplyPrefixSize));
        int e = Attack.Exchange(channel, buf, new MmapRequest(handle, (ulong)offset, (ulong)length, 3, 1).Write(buf, 3), fds);
        Console.WriteLine($"mmap {(e == 0 ? "OK" : ((Errno)e).Name())}");
        byte[] one = new byte[1];
        for (int i = 0; i < fds.Count; i++)
        {
            long size = Interop.lseek(fds[i], 0, Interop.SEEK_END);
            Console.WriteLine($"fd {i} size {size}");
            Console.WriteLine($"fd {i} beyond {Pread(fds[i], one, size)}");
            fds[i].Dispose();
        }
        Console.WriteLine("done");
        return 0;
    }

    private static unsafe long Pread(SafeFd fd, byte[] buffer, long at)
    {
        if (Interop.lseek(fd, at, Interop.SEEK_SET) < 0) return -(long)Interop.LastErrno;
        fixed (byte* p = buffer)
        {
            long n = Interop.read(fd, p, 1);
            return n < 0 ? -(long)Interop.LastErrno : n;
        }
    }
}
