using System.Globalization;
using Umem.Host;
using Umem.Kernel.Modules;
using Umem.TestDrivers;

namespace Umem.TestApp;

/// <summary>
/// A real Umem serving the test device as DIR/test0 (as <c>host</c> does, without driver events), with
/// <see cref="DeviceHostOptions"/> limits set from NAME=VALUE arguments (the integer ones by name; SendTimeout in
/// milliseconds), so the flood tests can run a host process with a small limit and read its /proc/PID.
/// </summary>
internal static class FloodHost
{
    internal static int Run(string directory, IEnumerable<string> settings)
    {
        var options = new DeviceHostOptions { DeviceDirectory = directory };
        foreach (string setting in settings)
        {
            string[] kv = setting.Split('=', 2);
            var property = typeof(DeviceHostOptions).GetProperty(kv[0]) ?? throw new ArgumentException($"no option {kv[0]}");
            object value = property.PropertyType == typeof(TimeSpan)
                ? TimeSpan.FromMilliseconds(double.Parse(kv[1], CultureInfo.InvariantCulture))
                : Convert.ChangeType(kv[1], property.PropertyType, CultureInfo.InvariantCulture);
            property.SetValue(options, value);
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
