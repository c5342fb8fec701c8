namespace Umem.Tests.CClient;

/// <summary>Tests that run clients/c/build.sh share its output folder, so they never run at the same time.</summary>
internal static class CBuild
{
    internal const string Collection = "clients/c build";
}
