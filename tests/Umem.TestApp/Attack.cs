using System.Buffers.Binary;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.TestApp;

/// <summary>
/// A hostile client: speaks the protocol with raw messages (no client library), obtains a read-only grant, and
/// tries every way this kernel offers to write through it. Prints "name ERRNO" per attempt (OK when it worked).
/// Options: <c>rw=OFFSET</c> (the page it asks read-write for, default 0), <c>open=r</c> (open the node O_RDONLY
/// instead of O_RDWR), <c>hold</c> (after the attack, close the connection, keep every fd and mapping, and answer
/// stdin lines: <c>check</c> retries the attacks through the kept read-only fd, <c>scribble BYTE</c> writes BYTE
/// over the page of the kept read-write fd).
/// </summary>
internal static unsafe class Attack
{
    internal static int Run(string path, long offset, long length, int hostPid, IReadOnlyList<string> options)
    {
        long rwOffset = 0;
        bool readOnlyOpen = false, hold = false;
        foreach (string o in options)
        {
            if (o.StartsWith("rw=", StringComparison.Ordinal)) rwOffset = long.Parse(o.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture);
            else if (o == "open=r") readOnlyOpen = true;
            else if (o == "hold") hold = true;
            else throw new ArgumentException($"unknown attack option '{o}'");
        }

        using var channel = SeqPacketChannel.Connect(path);
        var buf = new byte[Wire.MaxMessage];
        var fds = new List<SafeFd>();
        Exchange(channel, buf, new HelloRequest(1, 1).Write(buf, 1), fds);
        // O_RDWR unless told otherwise: the node (0666) allows it.
        Exchange(channel, buf, new OpenRequest(readOnlyOpen ? 0u : 2u).Write(buf, 2), fds);
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(Wire.ReplyPrefixSize));

        // Asking for write on a read-only region is refused by the host.
        int e = Exchange(channel, buf, new MmapRequest(handle, (ulong)offset, (ulong)length, 3, 1).Write(buf, 3), fds);
        Print("mmap-request-write", e);
        e = Exchange(channel, buf, new MmapRequest(handle, (ulong)offset, (ulong)length, 1, 1).Write(buf, 4), fds);
        Print("mmap-request-read", e);
        if (e != 0 || fds.Count != 1) return 1;
        SafeFd fd = fds[0];
        fds.Clear();
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
        WriteAttempts("", fd, length);
        Print("add-seals", Interop.fcntl(fd, Interop.F_ADD_SEALS, Interop.F_SEAL_WRITE) < 0 ? (int)Interop.LastErrno : 0);

        // A private writable mapping works but only writes private copies.
        nint q = Interop.mmap(0, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_PRIVATE, fd, 0);
        if (q != Interop.MAP_FAILED)
        {
            *(byte*)q = 0x5A;
            Console.WriteLine("private-write done");
        }

        // A read-write grant: the seals still stop resizing (a shrink would make the host fault) and resealing.
        e = Exchange(channel, buf, new MmapRequest(handle, (ulong)rwOffset, (ulong)SystemPage.Size, 3, 1).Write(buf, 5), fds);
        Print("rw-mmap-request", e);
        SafeFd? rw = e == 0 && fds.Count == 1 ? fds[0] : null;
        if (rw is not null)
        {
            Print("rw-ftruncate-shrink", Interop.ftruncate(rw, 0) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-ftruncate-grow", Interop.ftruncate(rw, SystemPage.Size * 2) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-add-seals", Interop.fcntl(rw, Interop.F_ADD_SEALS, Interop.F_SEAL_FUTURE_WRITE) < 0 ? (int)Interop.LastErrno : 0);
            Print("rw-fchmod", Interop.fchmod(rw, Convert.ToUInt32("666", 8)) < 0 ? (int)Interop.LastErrno : 0);
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
        if (hold)
        {
            // The connection goes (disposing twice is harmless); the fds and mappings stay, as a client may keep them.
            channel.Dispose();
            Console.WriteLine("closed");
            Hold(fd, p, rw, length);
        }
        fd.Dispose();
        rw?.Dispose();
        return 0;
    }

    /// <summary>Answers stdin lines until it closes; see the class summary.</summary>
    private static void Hold(SafeFd fd, nint view, SafeFd? rw, long length)
    {
        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            string[] a = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (a is ["check"])
            {
                nint p = Interop.mmap(0, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
                Print("kept-mmap-shared-write", p == Interop.MAP_FAILED ? (int)Interop.LastErrno : 0);
                if (view != Interop.MAP_FAILED)
                {
                    Print("kept-mprotect-write", Interop.mprotect(view, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE) < 0 ? (int)Interop.LastErrno : 0);
                    var bytes = new ReadOnlySpan<byte>((void*)view, checked((int)length));
                    // What the kept view shows: its first byte, and where (if anywhere) the page stops being that byte.
                    Console.WriteLine($"kept-view {bytes[0]} {bytes.IndexOfAnyExcept(bytes[0])}");
                }
                WriteAttempts("kept-", fd, length);
            }
            else if (a is ["scribble", var value] && rw is not null)
            {
                nint p = Interop.mmap(0, (nuint)SystemPage.Size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, rw, 0);
                if (p == Interop.MAP_FAILED)
                {
                    Print("scribble", (int)Interop.LastErrno);
                }
                else
                {
                    new Span<byte>((void*)p, SystemPage.Size).Fill(byte.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
                    Interop.munmap(p, (nuint)SystemPage.Size);
                    Print("scribble", 0);
                }
            }
            else
            {
                Console.WriteLine($"unknown {line}");
            }
            Console.WriteLine("checked");
        }
    }

    /// <summary>Every other way to write or change the file behind a read-only fd.</summary>
    private static void WriteAttempts(string prefix, SafeFd fd, long length)
    {
        int ro = Interop.open($"/proc/self/fd/{fd.Fd}", Interop.O_RDWR);
        Print(prefix + "reopen-rdwr", ro < 0 ? (int)Interop.LastErrno : 0);
        if (ro >= 0) Interop.close(ro);
        Print(prefix + "fchmod", Interop.fchmod(fd, Convert.ToUInt32("666", 8)) < 0 ? (int)Interop.LastErrno : 0);
        Print(prefix + "ftruncate-shrink", Interop.ftruncate(fd, 0) < 0 ? (int)Interop.LastErrno : 0);
        Print(prefix + "ftruncate-grow", Interop.ftruncate(fd, length * 2) < 0 ? (int)Interop.LastErrno : 0);
        Print(prefix + "punch-hole", Interop.fallocate(fd, Interop.FALLOC_FL_PUNCH_HOLE | Interop.FALLOC_FL_KEEP_SIZE, 0, length) < 0 ? (int)Interop.LastErrno : 0);
    }

    private static void Print(string name, int errno) => Console.WriteLine($"{name} {(errno == 0 ? "OK" : ((Errno)errno).Name())}");

    /// <summary>Sends a request and reads the reply into <paramref name="buf"/>; returns the reply's errno.</summary>
    internal static int Exchange(SeqPacketChannel channel, byte[] buf, int length, List<SafeFd> fds)
    {
        channel.Send(buf.AsSpan(0, length));
        var r = channel.Receive(buf, fds);
        return r.Length >= Wire.ReplyPrefixSize ? BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(Wire.HeaderSize)) : -1;
    }
}
