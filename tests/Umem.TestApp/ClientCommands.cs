using System.Globalization;
using Umem.Client;
using Umem.Platform;

namespace Umem.TestApp;

/// <summary>
/// An application using the client library, driven line by line: open PATH [r|w|rw] | map OFF LEN r|rw|none [populate] |
/// fill M OFF LEN BYTE | layout M (memfds and VMAs it is made of) | get M OFF | find M OFF LEN BYTE (first index in the range holding another byte, -1 if none) | unmap M OFF LEN | dispose M | memory M | memget K OFF | ioctl CMD HEX OUTMAX |
/// register LEN | baddr B (its address) | bfill B OFF LEN BYTE | bdrvfill B OFF LEN BYTE (the driver locks and fills) | bget B OFF | hog FREE (take every fd but FREE) | unhog | nofile [SOFT] (RLIMIT_NOFILE) | inherit HEX (INHERIT of a DUP_PREPARE token: "ok ID") | close | pid | bits | admin SOCKET JSON (one admin request: "ok" or "err ERRNO message") | quit.
/// </summary>
internal static class ClientCommands
{
    internal static int Run(TextReader input, TextWriter output)
    {
        UmemDevice? device = null;
        var mappings = new List<UmemMapping>();
        var memories = new List<Memory<byte>>();
        var buffers = new List<UmemBuffer>();
        var inherited = new InheritedList();
        var hogged = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>();
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            string[] a = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (a.Length == 0) continue;
            string answer;
            try
            {
                answer = a[0] switch
                {
                    "open" => Open(a, out device),
                    "map" => Index(mappings, device!.Map(L(a[1]), L(a[2]), ParseProt(a[3]), MapKind.Shared, a.Length > 4 && a[4] == "populate" ? MapOptions.Populate : MapOptions.None)),
                    "fill" => Ok(() => mappings[I(a[1])].GetSpan(L(a[2]), I(a[3])).Fill(B(a[4]))),
                    "layout" => Layout(mappings[I(a[1])]),
                    "get" => "ok " + mappings[I(a[1])].GetSpan(L(a[2]), 1)[0].ToString(CultureInfo.InvariantCulture),
                    "find" => "ok " + mappings[I(a[1])].GetSpan(L(a[2]), I(a[3])).IndexOfAnyExcept(B(a[4])).ToString(CultureInfo.InvariantCulture),
                    "unmap" => Ok(() => mappings[I(a[1])].Unmap(L(a[2]), L(a[3]))),
                    "dispose" => Ok(() => mappings[I(a[1])].Dispose()),
                    "memory" => Index(memories, mappings[I(a[1])].Memory),
                    "memget" => "ok " + memories[I(a[1])].Span[I(a[2])].ToString(CultureInfo.InvariantCulture),
                    "ioctl" => Ioctl(device!, a),
                    "register" => Index(buffers, device!.RegisterBuffer(L(a[1]))),
                    "bfill" => Ok(() => buffers[I(a[1])].Span.Slice(I(a[2]), I(a[3])).Fill(B(a[4]))),
                    "bdrvfill" => DriverFill(device!, buffers[I(a[1])], L(a[2]), I(a[3]), B(a[4])),
                    "bget" => "ok " + buffers[I(a[1])].Span[I(a[2])].ToString(CultureInfo.InvariantCulture),
                    "inherit" => "ok " + inherited.Add(device!.InheritFrom(Umem.Protocol.InheritToken.FromHex(a[1]))).ToString(CultureInfo.InvariantCulture),
                    "baddr" => "ok " + buffers[I(a[1])].Address.ToString(CultureInfo.InvariantCulture),
                    "admin" => AdminCall(a[1], line[(line.IndexOf(a[1], StringComparison.Ordinal) + a[1].Length)..].Trim()),
                    "close" => Ok(() => device!.Dispose()),
                    "pid" => "ok " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                    "bits" => "ok " + (IntPtr.Size * 8).ToString(CultureInfo.InvariantCulture),
                    "hog" => Hog(hogged, I(a[1])),
                    "nofile" => NoFile(a.Length > 1 ? L(a[1]) : -1),
                    "unhog" => Ok(() => Unhog(hogged)),
                    "quit" => "bye",
                    _ => "err EINVAL unknown command " + a[0],
                };
            }
            catch (ErrnoException e)
            {
                answer = $"err {e.Errno.Name()} {e.Message}";
            }
            catch (Exception e)
            {
                answer = $"err {e.GetType().Name} {e.Message.ReplaceLineEndings(" ")}";
            }
            output.WriteLine(answer);
            output.Flush();
            if (answer == "bye") break;
        }
        return 0;
    }

    /// <summary>One admin request on a connection of its own (as this process's uid and groups).</summary>
    private static string AdminCall(string socket, string json)
    {
        var request = System.Text.Json.JsonSerializer.Deserialize(json, Umem.Protocol.Admin.AdminJson.Default.AdminRequest)!;
        using var client = Umem.Client.Admin.AdminClient.Connect(socket);
        var reply = client.Call(request);
        return reply.Error is null ? "ok" : $"err {reply.Error} {reply.Message}";
    }

    private static string Layout(UmemMapping m)
    {
        var (fds, vmas) = Umem.TestSupport.MappingLayout.Count(m.Address, m.Length);
        return string.Create(CultureInfo.InvariantCulture, $"ok {fds} {vmas}");
    }

    /// <summary>Opens /dev/null until RLIMIT_NOFILE is reached, then closes the <paramref name="free"/> lowest of those fds: exactly that many are free.</summary>
    private static string Hog(List<Microsoft.Win32.SafeHandles.SafeFileHandle> hogged, int free)
    {
        try
        {
            while (true) hogged.Add(File.OpenHandle("/dev/null"));
        }
        catch (IOException)
        {
            // EMFILE: every fd is taken.
        }
        hogged.Sort((x, y) => x.DangerousGetHandle().CompareTo(y.DangerousGetHandle()));
        for (int i = 0; i < free && hogged.Count > 0; i++)
        {
            hogged[0].Dispose();
            hogged.RemoveAt(0);
        }
        return "ok " + hogged.Count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Sets the soft RLIMIT_NOFILE (when <paramref name="soft"/> is not -1); answers "ok SOFT HARD".</summary>
    private static unsafe string NoFile(long soft)
    {
        Interop.rlimit lim;
        if (Interop.getrlimit(Interop.RLIMIT_NOFILE, &lim) < 0) throw new ErrnoException(Interop.LastErrno, "getrlimit");
        if (soft >= 0)
        {
            lim.rlim_cur = (ulong)soft;
            if (Interop.setrlimit(Interop.RLIMIT_NOFILE, &lim) < 0) throw new ErrnoException(Interop.LastErrno, "setrlimit");
        }
        return FormattableString.Invariant($"ok {lim.rlim_cur} {lim.rlim_max}");
    }

    private static void Unhog(List<Microsoft.Win32.SafeHandles.SafeFileHandle> hogged)
    {
        foreach (var h in hogged) h.Dispose();
        hogged.Clear();
    }

    private static string Open(string[] a, out UmemDevice device)
    {
        var access = a.Length < 3 ? FileAccess.ReadWrite : a[2] switch
        {
            "r" => FileAccess.Read,
            "w" => FileAccess.Write,
            _ => FileAccess.ReadWrite,
        };
        device = UmemDevice.Open(a[1], access);
        return "ok";
    }

    /// <summary>The test driver locks [offset, offset+length) of a registered buffer (ddi_umem_lock) and fills it.</summary>
    private static string DriverFill(UmemDevice device, UmemBuffer buffer, long offset, int length, byte value)
    {
        var input = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(input, buffer.Address + offset);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(8), length);
        input[12] = value;
        device.Ioctl(TestDrivers.TestDeviceDriver.IoctlBufferFill, input, []);
        return "ok";
    }

    private static string Ioctl(UmemDevice device, string[] a)
    {
        byte[] input = a[2] == "-" ? [] : Convert.FromHexString(a[2]);
        byte[] output = new byte[I(a[3])];
        var r = device.Ioctl(uint.Parse(a[1], CultureInfo.InvariantCulture), input, output);
        return $"ok {r.Rval} {Convert.ToHexString(output, 0, r.OutLength)}";
    }

    private static string Index<T>(List<T> list, T item)
    {
        list.Add(item);
        return "ok " + (list.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    private static string Ok(Action action)
    {
        action();
        return "ok";
    }

    private static Prot ParseProt(string s) => s switch
    {
        "r" => Prot.Read,
        "rw" => Prot.ReadWrite,
        "w" => Prot.Write,
        _ => Prot.None,
    };

    private static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);

    private static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static byte B(string s) => byte.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>Inherited mappings, kept alive until the app exits; Add answers the host's mapping id.</summary>
    private sealed class InheritedList
    {
        private readonly List<UmemInheritedMapping> _items = [];

        internal long Add(UmemInheritedMapping m)
        {
            _items.Add(m);
            return m.Id;
        }
    }
}
