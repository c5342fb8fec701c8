using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Umem.Tests.Sync;

/// <summary>The doorbell and ring tests start spinning peer processes; on 2 CPUs they run best alone.</summary>
[CollectionDefinition(nameof(SyncProcesses), DisableParallelization = true)]
public sealed class SyncProcesses;

/// <summary>Where the repository and its C peers are.</summary>
internal static class SyncPaths
{
    private static readonly Lazy<string> s_nativeBin = new(BuildNative);

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The C# peer (tests/Umem.SyncPeer), copied beside the tests by the project reference.</summary>
    public static string CSharpPeer => Path.Combine(AppContext.BaseDirectory, "Umem.SyncPeer");

    /// <summary>A program of bench/native, built with gcc on first use.</summary>
    public static string Native(string program) => Path.Combine(s_nativeBin.Value, program);

    /// <summary>The C client's doorbell and ring header (clients/c/umem_sync.h).</summary>
    public static string NativeHeader => Path.Combine(RepositoryRoot, "clients", "c", "umem_sync.h");

    /// <summary>The test pattern of the C peers.</summary>
    public static string NativePatternHeader => Path.Combine(RepositoryRoot, "bench", "native", "sync_pattern.h");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Umem.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Umem.slnx above {AppContext.BaseDirectory}");
    }

    private static string BuildNative()
    {
        string script = Path.Combine(RepositoryRoot, "bench", "native", "build.sh");
        using var build = Process.Start(new ProcessStartInfo("/bin/sh", [script]) { RedirectStandardError = true })!;
        string errors = build.StandardError.ReadToEnd();
        build.WaitForExit();
        Assert.True(build.ExitCode == 0, $"{script} failed: {errors}");
        return Path.Combine(RepositoryRoot, "bench", "native", "bin");
    }
}

/// <summary>A peer process: its output lines as they come, its stdin, its exit.</summary>
internal sealed class SyncPeerProcess : IDisposable
{
    /// <summary>How long a test waits for a peer before it calls the run a failure (a guard, never a measurement).</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();

    private SyncPeerProcess(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null)
            {
                _lines.CompleteAdding();
                return;
            }
            lock (_output)
                _output.AppendLine(e.Data);
            _lines.Add(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (_errors)
                    _errors.AppendLine(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Name = $"{Path.GetFileName(file)} {string.Join(' ', args)}";
    }

    public string Name { get; }

    public static SyncPeerProcess CSharp(params string[] args) => new(SyncPaths.CSharpPeer, args);

    public static SyncPeerProcess C(params string[] args) => new(SyncPaths.Native("syncpeer"), args);

    public static SyncPeerProcess Start(PeerKind kind, params string[] args) => kind == PeerKind.CSharp ? CSharp(args) : C(args);

    /// <summary>The next output line starting with <paramref name="prefix"/> (earlier lines are skipped).</summary>
    public string WaitForLine(string prefix)
    {
        using var cts = new CancellationTokenSource(Guard);
        try
        {
            foreach (string line in _lines.GetConsumingEnumerable(cts.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                    return line;
            }
        }
        catch (OperationCanceledException)
        {
        }
        throw new Xunit.Sdk.XunitException($"{Name}: no line starting with '{prefix}' within {Guard}. {Describe()}");
    }

    public void SendLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the exit and returns the whole output; fails the test on a non-zero exit code.</summary>
    public string WaitForSuccess()
    {
        if (!_process.WaitForExit(Guard))
        {
            _process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{Name}: still running after {Guard}. {Describe()}");
        }
        _process.WaitForExit();   // drains the output
        Assert.True(_process.ExitCode == 0, $"{Name}: exit code {_process.ExitCode}. {Describe()}");
        lock (_output)
            return _output.ToString();
    }

    /// <summary>The value of <c>key=</c> on an output line.</summary>
    public static string Field(string line, string key)
    {
        foreach (string part in line.Split(' '))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal))
                return part[(key.Length + 1)..];
        }
        throw new Xunit.Sdk.XunitException($"no {key}= in '{line}'");
    }

    public static long LongField(string line, string key) =>
        long.Parse(Field(line, key), System.Globalization.CultureInfo.InvariantCulture);

    public static string LastLine(string output, string prefix) =>
        output.Split('\n').Last(l => l.StartsWith(prefix, StringComparison.Ordinal));

    public string Describe()
    {
        lock (_output)
            lock (_errors)
                return $"stdout: {_output} stderr: {_errors}";
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _lines.Dispose();
    }
}

public enum PeerKind
{
    CSharp,
    C,
}

/// <summary>The bytes the tests stream: each position's byte is known, so a reader checks every byte it gets.</summary>
internal static class TestPattern
{
    public static byte At(long position) => (byte)(((ulong)position * 0x9E3779B97F4A7C15) >> 56);

    public static void Fill(Span<byte> destination, long position)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = At(position + i);
    }

    public static ulong Fnv(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            hash = (hash ^ b) * 0x100000001b3;
        return hash;
    }

    public const ulong FnvOffset = 0xcbf29ce484222325;
}
