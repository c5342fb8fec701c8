using System.Diagnostics;
using System.Text;

namespace Umem.Tests.Host;

/// <summary>A real child process driven through its stdin/stdout, one line per command.</summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>The TestApp assembly, copied beside the tests.</summary>
    internal static string TestAppPath { get; } = Path.Combine(AppContext.BaseDirectory, "Umem.TestApp.dll");

    internal int Pid => _process.Id;

    internal string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>dotnet Umem.TestApp.dll ARGS, as root or (with <paramref name="uid"/>) dropped to that uid/gid with no groups.</summary>
    internal static ChildProcess StartTestApp(uint? uid, params string[] args) =>
        Start(DotNet, [TestAppPath, .. args], uid);

    /// <summary>dotnet Umem.TestApp.dll ARGS as <paramref name="uid"/>/<paramref name="uid"/> with exactly the supplementary <paramref name="groups"/>.</summary>
    internal static ChildProcess StartTestAppWithGroups(uint uid, uint[] groups, params string[] args) =>
        Start(DotNet, [TestAppPath, .. args], uid, groups: groups);

    internal static ChildProcess Start(string file, IEnumerable<string> args, uint? uid = null, string? workingDirectory = null, uint[]? groups = null)
    {
        var psi = new ProcessStartInfo
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (uid is { } u)
        {
            psi.FileName = "setpriv";
            string groupArg = groups is { Length: > 0 } ? $"--groups={string.Join(',', groups)}" : "--clear-groups";
            foreach (var a in new[] { $"--reuid={u}", $"--regid={u}", groupArg, "--", file }) psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = "/tmp";
        }
        else
        {
            psi.FileName = file;
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return new ChildProcess(Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}"));
    }

    /// <summary>The dotnet host running this test process.</summary>
    internal static string DotNet { get; } = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : "dotnet";

    /// <summary>Sends a command and returns the answer line.</summary>
    internal string Command(string line)
    {
        Send(line);
        return ReadLine();
    }

    /// <summary>Sends a line without reading an answer (for commands that answer with several lines).</summary>
    internal void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Sends a command that must answer "ok ..."; returns what follows "ok".</summary>
    internal string Ok(string line)
    {
        string answer = Command(line);
        Assert.True(answer.StartsWith("ok", StringComparison.Ordinal), $"'{line}' answered '{answer}'; stderr: {StandardError}");
        return answer.Length > 2 ? answer[3..] : "";
    }

    internal string ReadLine()
    {
        var task = _process.StandardOutput.ReadLineAsync();
        if (!task.Wait(s_guard)) throw new TimeoutException($"child {Pid} did not answer; stderr: {StandardError}");
        return task.Result ?? throw new EndOfStreamException($"child {Pid} ended; stderr: {StandardError}");
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/>.</summary>
    internal string ReadUntil(string prefix) => ReadUntil(line => line.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Reads lines until one matches <paramref name="match"/>.</summary>
    internal string ReadUntil(Func<string, bool> match)
    {
        while (true)
        {
            string line = ReadLine();
            if (match(line)) return line;
        }
    }

    internal List<string> ReadToEnd()
    {
        var lines = new List<string>();
        var task = _process.StandardOutput.ReadToEndAsync();
        if (!task.Wait(s_guard)) throw new TimeoutException($"child {Pid} did not finish; stderr: {StandardError}");
        lines.AddRange(task.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return lines;
    }

    internal void CloseInput() => _process.StandardInput.Close();

    internal void Kill() => _process.Kill(entireProcessTree: false); // SIGKILL

    internal void Signal(string name)
    {
        using var kill = Process.Start("kill", $"-{name} {Pid}");
        kill.WaitForExit();
    }

    internal int WaitForExit()
    {
        Assert.True(_process.WaitForExit(s_guard), $"child {Pid} did not exit; stderr: {StandardError}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            // The whole tree, and a bounded wait: WaitForExit() without a timeout also waits for the redirected
            // streams to close, which never happens while a grandchild still holds them.
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(s_guard);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
    }
}
