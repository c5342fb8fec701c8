using Umem.Kernel.Modules;

namespace Umem.Kernel.Ddi;

/// <summary>Where a cookie was allocated: the caller the compiler saw, and the whole stack when the module asked for it.</summary>
/// <param name="Member">The calling member (e.g. "Segmap").</param>
/// <param name="File">The source file of the call.</param>
/// <param name="Line">The line of the call.</param>
/// <param name="StackTrace">The stack at allocation, when <see cref="ModuleOptions.CaptureAllocationStacks"/> is on.</param>
public sealed record AllocationSite(string Member, string File, int Line, string? StackTrace)
{
    public override string ToString() => $"{Member} ({Path.GetFileName(File)}:{Line})";
}
