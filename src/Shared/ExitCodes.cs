namespace Umem.CommandLine;

/// <summary>
/// The exit status convention of `umem`, the samples and the C examples (docs/operating.md, "Exit status"): 0 it
/// worked, 1 it failed (a system call, a check, the host refused), 2 it was asked wrongly (command line, input file).
/// </summary>
internal static class ExitCodes
{
    internal const int Success = 0;
    internal const int Failure = 1;
    internal const int Usage = 2;
}
