using System.Buffers.Binary;
using System.Globalization;
using Umem.Client;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.TestApp;

/// <summary>
/// A client that floods the host with one kind of request until a limit refuses it, speaking raw messages (the
/// register flood uses the client library, which makes the sealed memfds). Prints "ready" once started and waits
/// for a line on stdin before it attacks (so a bystander's figures cover the attack, not the start of a .NET
/// process), then prints "key value" lines, then "holding", and keeps every connection until stdin closes; each stdin line is answered with "hung-up N", the
/// number of its connections the host has closed meanwhile.
/// <list type="bullet">
/// <item><c>connections PATH N</c>: N connections, HELLO on each (accepted, refused, first-refusal).</item>
/// <item><c>maps PATH CONNS N</c>: OPEN O_RDONLY on CONNS connections, then read-only MMAPs of page 2 round-robin,
/// each reply's fds closed at once, until N mappings per connection or every connection refused (mapped, errno).</item>
/// <item><c>opens PATH N</c>: up to N OPENs on one connection (opened, errno, served: the connection still answers).</item>
/// <item><c>register PATH CONNS N BYTES</c>: on CONNS connections, up to N registrations each of BYTES sparse
/// bytes (registered, bytes, errno).</item>
/// <item><c>slow PATH CONNS REQS</c>: on CONNS connections, REQS 60,000-byte IOCTL echoes each, never reading a
/// reply (sent: requests the host took).</item>
/// <item><c>burn PATH MS</c>: the control: spins one thread for MS ms without talking to the host, so the bystander's
/// figures show what sharing the CPU with an attacker costs by itself (spun: loop iterations).</item>
/// </list>
/// </summary>
internal static class Flood
{
    private const int EchoBytes = 60000;

    internal static int Run(string kind, string path, string[] a)
    {
        var held = new List<SeqPacketChannel>();
        var devices = new List<UmemDevice>();
        var buf = new byte[Wire.MaxMessage];
        var fds = new List<SafeFd>();
        Console.WriteLine("ready");
        Console.Out.Flush();
        if (Console.ReadLine() is null) return 0;
        switch (kind)
        {
            case "connections":
                {
                    int accepted = 0, refused = 0;
                    string first = "-";
                    for (int i = 0; i < I(a[0]); i++)
                    {
                        SeqPacketChannel c;
                        try
                        {
                            c = SeqPacketChannel.Connect(path);
                        }
                        catch (ErrnoException x)
                        {
                            if (refused++ == 0) first = "connect-" + x.Errno.Name(); // no room even to connect
                            continue;
                        }
                        int e = Exchange(c, buf, new HelloRequest(1, 1).Write(buf, 1), fds);
                        if (e == 0)
                        {
                            held.Add(c);
                            accepted++;
                            continue;
                        }
                        if (refused++ == 0) first = e < 0 ? "closed" : ((Errno)e).Name();
                        c.Dispose();
                    }
                    Console.WriteLine($"accepted {accepted}");
                    Console.WriteLine($"refused {refused}");
                    Console.WriteLine($"first-refusal {first}");
                    break;
                }
            case "maps":
                {
                    var handles = new List<ulong>();
                    for (int i = 0; i < I(a[0]); i++) held.Add(Ready(path, buf, fds, 0, handles));
                    long mapped = 0;
                    string errno = "-";
                    var live = new List<int>(Enumerable.Range(0, held.Count));
                    for (int round = 0; round < I(a[1]) && live.Count > 0; round++)
                    {
                        foreach (int c in live.ToArray())
                        {
                            int e = Exchange(held[c], buf, new MmapRequest(handles[c], (ulong)(2 * SystemPage.Size), (ulong)SystemPage.Size, 1, 1).Write(buf, 3), fds);
                            if (e == 0)
                            {
                                mapped++;
                                continue;
                            }
                            errno = e < 0 ? "closed" : ((Errno)e).Name();
                            live.Remove(c);
                        }
                    }
                    Console.WriteLine($"mapped {mapped}");
                    Console.WriteLine($"errno {errno}");
                    break;
                }
            case "opens":
                {
                    var handles = new List<ulong>();
                    var c = Ready(path, buf, fds, 0, handles);
                    held.Add(c);
                    int opened = 1, e = 0;
                    while (opened < I(a[0]) && (e = Exchange(c, buf, new OpenRequest(0).Write(buf, 2), fds)) == 0) opened++;
                    Console.WriteLine($"opened {opened}");
                    Console.WriteLine($"errno {(e == 0 ? "-" : e < 0 ? "closed" : ((Errno)e).Name())}");
                    int served = Exchange(c, buf, new IoctlRequest(handles[0], 1, 8, 2).Write(buf, 4, [1, 2]), fds);
                    Console.WriteLine($"served {(served == 0 ? "OK" : ((Errno)served).Name())}");
                    break;
                }
            case "register":
                {
                    long registered = 0, bytes = 0;
                    string errno = "-";
                    for (int i = 0; i < I(a[0]); i++)
                    {
                        var d = UmemDevice.Open(path, FileAccess.Read);
                        devices.Add(d);
                        for (int k = 0; k < I(a[1]); k++)
                        {
                            try
                            {
                                d.RegisterBuffer(long.Parse(a[2], CultureInfo.InvariantCulture));
                                registered++;
                                bytes += long.Parse(a[2], CultureInfo.InvariantCulture);
                            }
                            catch (ErrnoException e)
                            {
                                errno = e.Errno.Name();
                                break;
                            }
                        }
                    }
                    Console.WriteLine($"registered {registered}");
                    Console.WriteLine($"bytes {bytes}");
                    Console.WriteLine($"errno {errno}");
                    break;
                }
            case "slow":
                {
                    var handles = new List<ulong>();
                    long sent = 0;
                    var input = new byte[EchoBytes];
                    for (int i = 0; i < I(a[0]); i++)
                    {
                        var c = Ready(path, buf, fds, 0, handles);
                        held.Add(c);
                        // Sends until the host stops taking requests (it is blocked answering one nobody reads).
                        c.SendTimeoutMilliseconds = 100;
                        try
                        {
                            for (int k = 0; k < I(a[1]); k++, sent++)
                                c.Send(buf.AsSpan(0, new IoctlRequest(handles[i], 1, EchoBytes, EchoBytes).Write(buf, 10, input)));
                        }
                        catch (ErrnoException)
                        {
                            // Full: the host's thread for this connection is the one that is stuck.
                        }
                    }
                    Console.WriteLine($"sent {sent}");
                    break;
                }
            case "burn":
                {
                    var time = System.Diagnostics.Stopwatch.StartNew();
                    long spun = 0;
                    while (time.ElapsedMilliseconds < I(a[0])) spun++;
                    Console.WriteLine($"spun {spun}");
                    break;
                }
            default:
                throw new ArgumentException($"unknown flood {kind}");
        }
        Console.WriteLine("holding");
        Console.Out.Flush();
        while (Console.ReadLine() is not null)
        {
            Console.WriteLine($"hung-up {held.Count(HungUp)}");
            Console.Out.Flush();
        }
        foreach (var c in held) c.Dispose();
        foreach (var d in devices) d.Dispose();
        return 0;
    }

    /// <summary>A new connection after HELLO and OPEN (<paramref name="oflags"/>); its handle is added to <paramref name="handles"/>.</summary>
    private static SeqPacketChannel Ready(string path, byte[] buf, List<SafeFd> fds, uint oflags, List<ulong> handles)
    {
        var c = SeqPacketChannel.Connect(path);
        if (Exchange(c, buf, new HelloRequest(1, 1).Write(buf, 1), fds) != 0 || Exchange(c, buf, new OpenRequest(oflags).Write(buf, 2), fds) != 0)
            throw new InvalidOperationException("HELLO or OPEN refused");
        handles.Add(BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(Wire.ReplyPrefixSize)));
        return c;
    }

    /// <summary>True once the host has closed the connection (POLLHUP), without reading what it queued.</summary>
    private static unsafe bool HungUp(SeqPacketChannel c)
    {
        var p = new Interop.pollfd { fd = (int)c.Handle.DangerousGetHandle(), events = Interop.POLLIN };
        return Interop.poll(&p, 1, 0) > 0 && (p.revents & (Interop.POLLHUP | Interop.POLLERR)) != 0;
    }

    /// <summary>
    /// Sends a request and reads its reply (closing any fds it carried: a mapping's memfd need not be mapped for the
    /// host to hold the mapping); returns the errno, or -1 when the host closed the connection instead.
    /// </summary>
    private static int Exchange(SeqPacketChannel c, byte[] buf, int length, List<SafeFd> fds)
    {
        try
        {
            c.Send(buf.AsSpan(0, length));
            var r = c.Receive(buf, fds);
            return r.Length >= Wire.ReplyPrefixSize ? BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(Wire.HeaderSize)) : -1;
        }
        catch (ErrnoException)
        {
            return -1; // EPIPE, ECONNRESET: closed
        }
        finally
        {
            foreach (var fd in fds) fd.Dispose();
            fds.Clear();
        }
    }

    private static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
}
