namespace Umem.Bench;

/// <summary>
/// UMEM_BENCH_QUICK=1 (set by bench/run-quick.sh): suites that bring their own longer job leave it out, so the
/// command line's short job is the only one and the quick run of everything stays under ten minutes.
/// </summary>
internal static class QuickRun
{
    internal static bool IsOn => Environment.GetEnvironmentVariable("UMEM_BENCH_QUICK") == "1";
}
