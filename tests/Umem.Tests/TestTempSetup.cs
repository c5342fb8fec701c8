using System.Runtime.CompilerServices;

namespace Umem.Tests;

internal static class TestTempSetup
{
    /// <summary>Before any test runs: temporary files of this run go in one directory removed at exit.</summary>
    [ModuleInitializer]
    internal static void Install() => TestTemp.Install();
}
