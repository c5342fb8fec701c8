using System.Diagnostics;
using System.Globalization;

namespace Umem.Cli.Demo;

/// <summary>One application process of the demo: started with UMEM_GREET_HOLD so it keeps its mapping until released.</summary>
internal sealed class DemoApp : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly TaskCompletionSource _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DemoApp(string label, string language, int bits, Process process)
    {
        Label = label;
        Language = language;
        ExpectedBits = bits;
        _process = process;
    }

    public string Label { get; }

    public string Language { get; }

    public int ExpectedBits { get; }

    public int Pid { get; private set; }

    public int SelfBits { get; private set; }

    public int Slot { get; private set; } = -1;

    public List<(int Pid, int Bits, string Greeting)> Seen { get; } = [];

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public string Stderr { get; private set; } = "";

    public Task Reported => _reported.Task;

    public static DemoApp Start(string label, string language, int bits, string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["UMEM_GREET_HOLD"] = "1";
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var app = new DemoApp(label, language, bits, process);
        process.OutputDataReceived += (_, e) => app.OnLine(e.Data);
        process.BeginOutputReadLine();
        _ = Task.Run(async () => app.Stderr = await process.StandardError.ReadToEndAsync().ConfigureAwait(false));
        return app;
    }

    /// <summary>Lets the application unmap and exit.</summary>
    public async Task<int> ReleaseAsync(TimeSpan timeout)
    {
        try
        {
            await _process.StandardInput.WriteLineAsync().ConfigureAwait(false);
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it exited already
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        return _process.ExitCode;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _reported.TrySetResult();
            return;
        }
        lock (_output) _output.Add(line);
        var fields = Parse(line);
        if (line.StartsWith("seen ", StringComparison.Ordinal)
            && fields.TryGetValue("pid", out var p) && fields.TryGetValue("bits", out var b))
        {
            Seen.Add((int.Parse(p, CultureInfo.InvariantCulture), int.Parse(b, CultureInfo.InvariantCulture),
                fields.GetValueOrDefault("greeting", "")));
        }
        else if (line.StartsWith("self ", StringComparison.Ordinal))
        {
            Pid = int.Parse(fields["pid"], CultureInfo.InvariantCulture);
            SelfBits = int.Parse(fields["bits"], CultureInfo.InvariantCulture);
            Slot = int.Parse(fields["slot"], CultureInfo.InvariantCulture);
            _reported.TrySetResult();
        }
    }

    // "seen pid=12 bits=64 greeting=hello from x y": the greeting runs to the end of the line.
    private static Dictionary<string, string> Parse(string line)
    {
        var result = new Dictionary<string, string>();
        int g = line.IndexOf(" greeting=", StringComparison.Ordinal);
        string head = g >= 0 ? line[..g] : line;
        if (g >= 0) result["greeting"] = line[(g + " greeting=".Length)..];
        foreach (var part in head.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) result[part[..eq]] = part[(eq + 1)..];
        }
        return result;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
