using System.Diagnostics;
using Umem.Platform;

namespace Umem.Bench.Scale;

/// <summary>
/// The baseline beside every level, in the same run: the floor of a map request (as in MapRequestBenchmarks'
/// BareRoundTripWithFd) — 16 bytes over a SEQPACKET socket to a child (TestApp <c>fdserver</c>) that answers with 16
/// bytes and one memfd, which is mapped, read, unmapped and closed. No protocol, no device: its latency moves only
/// with the machine's load, so the ratio to it shows what a level costs.
/// </summary>
internal sealed class FloorProbe : IDisposable
{
    private readonly Process _server;
    private readonly SeqPacketChannel _channel;
    private readonly byte[] _request = new byte[16];
    private readonly byte[] _reply = new byte[64];
    private readonly List<SafeFd> _fds = new(1);
    private readonly int _page = Environment.SystemPageSize;

    private FloorProbe(Process server, SeqPacketChannel channel)
    {
        _server = server;
        _channel = channel;
    }

    /// <summary>Starts the server on <paramref name="socketPath"/> and connects.</summary>
    public static FloorProbe Start(string socketPath, TimeSpan guard)
    {
        // Every stream redirected: the server must hold none of this process's own (a test reading them to the end).
        var psi = new ProcessStartInfo(ScalePaths.DotNet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { ScalePaths.TestApp, "fdserver", socketPath }) psi.ArgumentList.Add(a);
        var server = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the floor's fd server");
        server.ErrorDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        var ready = server.StandardOutput.ReadLineAsync();
        if (!ready.Wait(guard) || ready.Result?.StartsWith("ready", StringComparison.Ordinal) != true)
        {
            server.Kill();
            server.Dispose();
            throw new InvalidOperationException($"the floor's fd server did not start within {guard.TotalSeconds} s");
        }
        return new FloorProbe(server, SeqPacketChannel.Connect(socketPath));
    }

    /// <summary>Untimed round trips: the JIT and the server settle.</summary>
    public void WarmUp(int requests)
    {
        for (int i = 0; i < requests; i++) RoundTrip();
    }

    /// <summary>Ticks of one round trip with an fd, mapped, read and unmapped.</summary>
    public long TimeRoundTrip()
    {
        long t0 = Stopwatch.GetTimestamp();
        RoundTrip();
        return Stopwatch.GetTimestamp() - t0;
    }

    private unsafe void RoundTrip()
    {
        _channel.Send(_request);
        _channel.Receive(_reply, _fds);
        using var fd = _fds[0];
        _fds.Clear();
        nint p = Interop.mmap(0, (nuint)_page, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        if (p == -1) throw new ErrnoException(Interop.LastErrno, "mmap(floor memfd)");
        _ = *(byte*)p;
        _ = Interop.munmap(p, (nuint)_page);
    }

    public void Dispose()
    {
        _channel.Dispose();
        if (!_server.HasExited) _server.Kill();
        _server.WaitForExit();
        _server.Dispose();
    }
}
