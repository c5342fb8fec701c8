using System.Diagnostics;
using System.Text;

namespace Umem.TestSupport;

/// <summary>
/// A real child process driven through its stdin/stdout, one line per command; killed (with its children) and
/// reaped on dispose. Every wait has a generous guard that only turns a hang into a failure.
/// </summary>
public sealed class ChildProcess : IDisposable
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
    public static string TestAppPath { get; } = Path.Combine(AppContext.BaseDirectory, "Umem.TestApp.dll");

    public int Pid => _process.Id;

    public string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>dotnet Umem.TestApp.dll ARGS, as root or (with <paramref name="uid"/>) dropped to that uid/gid with no groups.</summary>
    public static ChildProcess StartTestApp(uint? uid, params string[] args) =>
        Start(DotNet, [TestAppPath, .. args], uid);

    /// <summary>dotnet Umem.TestApp.dll ARGS as <paramref name="uid"/>/<paramref name="uid"/> with exactly the supplementary <paramref name="groups"/>.</summary>
    public static ChildProcess StartTestAppWithGroups(uint uid, uint[] groups, params string[] args) =>
        Start(DotNet, [TestAppPath, .. args], uid, groups: groups);

    /// <summary>
    /// Starts <c>PREFIX sh -c 'echo ready; exec sleep 60'</c> and returns once the shell printed "ready", i.e.
    /// after PREFIX (exec, setpriv, unshare) has done its work.
    /// </summary>
    public static ChildProcess StartReady(string prefix)
    {
        var child = Start("sh", ["-c", $"{prefix} sh -c 'echo ready; exec sleep 60'"]);
        try
        {
            string line = child.ReadLine();
            return line == "ready" ? child : throw new InvalidOperationException($"'{prefix}' printed '{line}', not 'ready'; stderr: {child.StandardError}");
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    public static ChildProcess Start(string file, IEnumerable<string> args, uint? uid = null, string? workingDirectory = null, uint[]? groups = null)
    {
        var psi = new ProcessStartInfo
        {
            // Another uid may not reach the test's own directory (a checkout in a 0700 home): it starts in "/".
            WorkingDirectory = workingDirectory ?? (uid is null ? "" : "/"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (uid is { } u)
        {
            psi.FileName = "setpriv";
            string groupArg = groups is { Length: > 0 } ? $"--groups={string.Join(',', groups)}" : "--clear-groups";
            foreach (var a in new[] { $"--reuid={u}", $"--regid={u}", groupArg, "--", OperatingSystem.IsLinux() ? UidStaging.Reachable(file) : file }) psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = "/tmp";
        }
        else
        {
            psi.FileName = file;
        }
        // A program (or a .dll for dotnet) the other uid could not read where the checkout lies is run from a staged copy.
        foreach (var a in args) psi.ArgumentList.Add(uid is not null && OperatingSystem.IsLinux() && a.EndsWith(".dll", StringComparison.Ordinal) ? UidStaging.Reachable(a) : a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return new ChildProcess(Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}"));
    }

    /// <summary>The dotnet host running this test process.</summary>
    public static string DotNet { get; } = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : "dotnet";

    /// <summary>Sends a command and returns the answer line.</summary>
    public string Command(string line)
    {
        Send(line);
        return ReadLine();
    }

    /// <summary>Sends a line without reading an answer (for commands that answer with several lines).</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Sends a command that must answer "ok ..."; returns what follows "ok".</summary>
    public string Ok(string line)
    {
        string answer = Command(line);
        return answer.StartsWith("ok", StringComparison.Ordinal)
            ? answer.Length > 2 ? answer[3..] : ""
            : throw new InvalidOperationException($"'{line}' answered '{answer}'; stderr: {StandardError}");
    }

    public string ReadLine()
    {
        var task = _process.StandardOutput.ReadLineAsync();
        if (!task.Wait(s_guard)) throw new TimeoutException($"child {Pid} did not answer; stderr: {StandardError}");
        return task.Result ?? throw new EndOfStreamException($"child {Pid} ended; stderr: {StandardError}");
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/>.</summary>
    public string ReadUntil(string prefix) => ReadUntil(line => line.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Reads lines until one matches <paramref name="match"/>.</summary>
    public string ReadUntil(Func<string, bool> match)
    {
        while (true)
        {
            string line = ReadLine();
            if (match(line)) return line;
        }
    }

    public List<string> ReadToEnd()
    {
        var lines = new List<string>();
        var task = _process.StandardOutput.ReadToEndAsync();
        if (!task.Wait(s_guard)) throw new TimeoutException($"child {Pid} did not finish; stderr: {StandardError}");
        lines.AddRange(task.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return lines;
    }

    public void CloseInput() => _process.StandardInput.Close();

    public void Kill() => _process.Kill(entireProcessTree: false); // SIGKILL

    public void Signal(string name)
    {
        using var kill = Process.Start("kill", $"-{name} {Pid}");
        kill.WaitForExit();
    }

    /// <summary>Waits (within the guard) for the child to exit; returns its exit code (128+N after signal N).</summary>
    public int WaitForExit()
    {
        if (!_process.WaitForExit(s_guard)) throw new TimeoutException($"child {Pid} did not exit; stderr: {StandardError}");
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
