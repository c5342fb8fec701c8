using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.TestApp;

/// <summary>
/// A hostile client: speaks the protocol with raw messages (no client library), obtains a read-only grant, and
/// tries every way this kernel offers to write through it. Prints "name ERRNO" per attempt (OK when it worked).
/// </summary>
internal static unsafe class Attack
{
    internal static int Run(string path, long offset, long length, int hostPid)
    {
        using var channel = SeqPacketChannel.Connect(path);
        var buf = new byte[Wire.MaxMessage];
        var fds = new List<SafeFd>();
        Exchange(channel, buf, new HelloRequest(1, 1).Write(buf, 1), fds);
        Exchange(channel, buf, new OpenRequest(2).Write(buf, 2), fds); // O_RDWR: the node allows it
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(Wire.ReplyPrefixSize));

        // Asking for write on a read-only region is refused by the host.
        int e = Exchange(channel, buf, new MmapRequest(handle, (ulong)offset, (ulong)length, 3, 1).Write(buf, 3), fds);
        Print("mmap-request-write", e);
        e = Exchange(channel, buf, new MmapRequest(handle, (ulong)offset, (ulong)length, 1, 1).Write(buf, 4), fds);
        Print("mmap-request-read", e);
        if (e != 0 || fds.Count != 1) return 1;
        SafeFd fd = fds[0];
        Console.WriteLine($"size {Interop.lseek(fd, 0, Interop.SEEK_END)}");
        Console.WriteLine($"accmode {Interop.fcntl(fd, Interop.F_GETFL, 0) & Interop.O_ACCMODE}");

        nint p = Interop.mmap(0, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        Print("mmap-shared-write", p == Interop.MAP_FAILED ? (int)Interop.LastErrno : 0);
        p = Interop.mmap(0, (nuint)length, Interop.PROT_READ, Interop.MAP_SHARED, fd, 0);
        Print("mmap-shared-read", p == Interop.MAP_FAILED ? (int)Interop.LastErrno : 0);
        if (p != Interop.MAP_FAILED)
        {
            Console.WriteLine($"byte {*(byte*)p}");
            Print("mprotect-write", Interop.mprotect(p, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE) < 0 ? (int)Interop.LastErrno : 0);
        }
        int ro = Interop.open($"/proc/self/fd/{fd.Fd}", Interop.O_RDWR);
        Print("reopen-rdwr", ro < 0 ? (int)Interop.LastErrno : 0);
        Print("fchmod", Interop.fchmod(fd, Convert.ToUInt32("666", 8)) < 0 ? (int)Interop.LastErrno : 0);
        Print("ftruncate-shrink", Interop.ftruncate(fd, 0) < 0 ? (int)Interop.LastErrno : 0);
        Print("ftruncate-grow", Interop.ftruncate(fd, length * 2) < 0 ? (int)Interop.LastErrno : 0);
        Print("punch-hole", Interop.fallocate(fd, Interop.FALLOC_FL_PUNCH_HOLE | Interop.FALLOC_FL_KEEP_SIZE, 0, length) < 0 ? (int)Interop.LastErrno : 0);
        Print("add-seals", Interop.fcntl(fd, Interop.F_ADD_SEALS, Interop.F_SEAL_WRITE) < 0 ? (int)Interop.LastErrno : 0);

        // A private writable mapping works but only writes private copies.
        nint q = Interop.mmap(0, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_PRIVATE, fd, 0);
        if (q != Interop.MAP_FAILED)
        {
            *(byte*)q = 0x5A;
            Console.WriteLine("private-write done");
        }

        // A read-write grant (page 0): the seals still stop resizing (a shrink would make the host fault) and resealing.
        foreach (var f in fds) f.Dispose();
        fds.Clear();
        e = Exchange(channel, buf, new MmapRequest(handle, 0, (ulong)SystemPage.Size, 3, 1).Write(buf, 5), fds);
        Print("rw-mmap-request", e);
        if (e == 0 && fds.Count == 1)
        {
            Print("rw-ftruncate-shrink", Interop.ftruncate(fds[0], 0) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-ftruncate-grow", Interop.ftruncate(fds[0], SystemPage.Size * 2) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-add-seals", Interop.fcntl(fds[0], Interop.F_ADD_SEALS, Interop.F_SEAL_FUTURE_WRITE) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-fchmod", Interop.fchmod(fds[0], Convert.ToUInt32("666", 8)) < 0 ? (int)Interop.LastErrno : 0);
        }

        // The host's own fds: never reachable for another uid (nor for the same uid once the host is non-dumpable).
        var errnos = new SortedSet<string>();
        for (int k = 0; k < 256; k++)
        {
            int h = Interop.open($"/proc/{hostPid}/fd/{k}", Interop.O_RDWR);
            if (h >= 0)
            {
                errnos.Add("OK");
                Interop.close(h);
            }
            else if (Interop.LastErrno != Errno.ENOENT)
            {
                errnos.Add(Interop.LastErrno.Name());
            }
        }
        Console.WriteLine($"hostfd {string.Join(',', errnos)}");
        Console.WriteLine("done");
        foreach (var f in fds) f.Dispose();
        return 0;
    }

    private static void Print(string name, int errno) => Console.WriteLine($"{name} {(errno == 0 ? "OK" : ((Errno)errno).Name())}");

    /// <summary>Sends a request and reads the reply into <paramref name="buf"/>; returns the reply's errno.</summary>
    private static int Exchange(SeqPacketChannel channel, byte[] buf, int length, List<SafeFd> fds)
    {
        channel.Send(buf.AsSpan(0, length));
        var r = channel.Receive(buf, fds);
        return r.Length >= Wire.ReplyPrefixSize ? BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(Wire.HeaderSize)) : -1;
    }
}
