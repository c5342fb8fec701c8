using Umem.Host;
using Umem.Kernel.Modules;
using Umem.TestDrivers;

namespace Umem.TestApp;

/// <summary>
/// A real Umem serving the test device as DIR/test0 (as <c>host</c> does, without driver events), with
/// <see cref="DeviceHostOptions"/> limits set from NAME=VALUE arguments (DeviceHostOptions.Set: integers by name, times in
/// milliseconds; <c>nofile=N</c> sets RLIMIT_NOFILE, soft and hard, before the host starts), so the flood tests can run
/// a host process with a small limit and read its /proc/PID.
/// </summary>
internal static class FloodHost
{
    private static unsafe void LimitFiles(ulong n)
    {
        var lim = new Umem.Platform.Interop.rlimit { rlim_cur = n, rlim_max = n };
        if (Umem.Platform.Interop.setrlimit(Umem.Platform.Interop.RLIMIT_NOFILE, &lim) < 0)
            throw new Umem.Platform.ErrnoException(Umem.Platform.Interop.LastErrno, $"setrlimit(RLIMIT_NOFILE, {n})");
    }

    internal static int Run(string directory, IEnumerable<string> settings)
    {
        var options = new DeviceHostOptions { DeviceDirectory = directory };
        foreach (string setting in settings)
        {
            string[] kv = setting.Split('=', 2);
            if (kv[0] == "nofile") LimitFiles(ulong.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture));
            else options.Set(kv[0], kv[1]);
        }
        var system = UmemSystem.Start(new UmemSystemOptions { Host = options });
        system.Kernel.ModLoad("testdev", () => new TestDeviceDriver(), new ModuleOptions
        {
            Properties = new Dictionary<string, string> { ["events"] = "0" },
        });
        Console.WriteLine($"ready {Environment.ProcessId} {system.NodePath(TestDeviceDriver.NodeName)}");
        Console.Out.Flush();
        while (Console.ReadLine() is not null)
        {
        }
        system.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
