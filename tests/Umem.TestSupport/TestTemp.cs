namespace Umem.TestSupport;

/// <summary>
/// One temporary directory per test process, removed when it exits: TMPDIR points into it, so every
/// temporary directory of the tests and of the processes they start (dotnet's own diagnostic pipes of a child
/// killed with SIGKILL included) goes with it, and a run leaves nothing in /tmp.
/// </summary>
public static class TestTemp
{
    private static string? s_root;

    /// <summary>The directory (sticky and writable by all, like /tmp: tests drop to other uids).</summary>
    public static string Root => s_root ?? throw new InvalidOperationException("TestTemp.Install was not called");

    /// <summary>Creates the directory and points TMPDIR at it; idempotent.</summary>
    public static void Install()
    {
        if (s_root is not null || !OperatingSystem.IsLinux()) return;
        string root = Path.Combine("/tmp", $"umem-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("1777", 8));
        Environment.SetEnvironmentVariable("TMPDIR", root);
        s_root = root;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort at exit: a child still holding a file there leaves it to the temp cleaner.
            }
        };
    }
}
