using System.Globalization;
using Umem.Tests.Host;

namespace Umem.Tests.Attacks;

/// <summary>The attack tests run one at a time: their figures are the host's and the bystander's alone.</summary>
[CollectionDefinition(nameof(AttackCollection), DisableParallelization = true)]
public sealed class AttackCollection;

/// <summary>
/// A real host process (TestApp <c>floodhost</c>, root) serving the test device with the given
/// <c>DeviceHostOptions</c> limits; what it holds is read from its /proc/PID.
/// </summary>
internal sealed class FloodHostProcess(ChildProcess process, string dir, int pid, string path) : IDisposable
{
    internal int Pid => pid;

    /// <summary>The node's socket.</summary>
    internal string Path => path;

    /// <summary>Open descriptors of the host but its assembly files (<see cref="CountFds"/>).</summary>
    internal int Fds => CountFds(Pid);

    /// <summary>
    /// The descriptors in /proc/PID/fd but those of assembly files: the runtime opens each assembly (twice) the
    /// first time code from it runs and keeps it open, so a request type the warm-up did not send adds a few for
    /// good; they are not held for any client. With <paramref name="socketsOnly"/>, the sockets alone.
    /// </summary>
    internal static int CountFds(int pid, bool socketsOnly = false)
    {
        int n = 0;
        foreach (var fd in new DirectoryInfo($"/proc/{pid}/fd").EnumerateFileSystemInfos())
        {
            string? target;
            try
            {
                target = fd.LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (socketsOnly ? target?.StartsWith("socket:", StringComparison.Ordinal) == true : target?.EndsWith(".dll", StringComparison.Ordinal) != true) n++;
        }
        return n;
    }

    /// <summary>The host's address space (VmSize of /proc/PID/status), in bytes.</summary>
    internal long VmSize
    {
        get
        {
            string line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmSize:", StringComparison.Ordinal));
            return long.Parse(line["VmSize:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>CPU time the host has used (utime + stime of /proc/PID/stat), in milliseconds.</summary>
    internal double CpuMs
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{Pid}/stat");
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd (state) on
            long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            return ticks * 1000.0 / 100; // USER_HZ is 100 on Linux
        }
    }

    /// <summary>The host's threads now (Threads of /proc/PID/status).</summary>
    internal int Threads => int.Parse(File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal))["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);

    /// <summary>Starts <c>floodhost</c> with NAME=VALUE <paramref name="settings"/> and waits until its node is served.</summary>
    internal static FloodHostProcess Start(params string[] settings)
    {
        string directory = TestHost.NewDirectory();
        var child = ChildProcess.StartTestApp(null, ["floodhost", System.IO.Path.Combine(directory, "dev"), .. settings]);
        try
        {
            string[] ready = child.ReadUntil("ready ").Split(' ');
            return new FloodHostProcess(child, directory, int.Parse(ready[1], CultureInfo.InvariantCulture), ready[2]);
        }
        catch
        {
            child.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Closes stdin: the host stops gracefully (every connection released, the module unloaded).</summary>
    internal int Stop()
    {
        process.CloseInput();
        return process.WaitForExit();
    }

    public void Dispose()
    {
        process.Dispose();
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
