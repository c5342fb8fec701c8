namespace Umem.Kernel.Ddi;

/// <summary>The DDI's success/failure result (sunddi.h): what attach(9E), detach(9E) and many DDI functions return.</summary>
public enum DdiResult
{
    /// <summary>DDI_SUCCESS (0).</summary>
    Success = 0,

    /// <summary>DDI_FAILURE (-1).</summary>
    Failure = -1,
}
