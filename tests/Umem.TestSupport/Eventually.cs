namespace Umem.TestSupport;

/// <summary>
/// Waits for a condition another thread or process reaches in its own time. The guard only turns a hang into a
/// failure; it is never a timing assertion, so it is generous (machines here have 2 CPUs shared with builds).
/// </summary>
public static class Eventually
{
    /// <summary>How long a wait may take before the run is called broken.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> after the guard.</summary>
    public static void WaitUntil(Func<bool> condition, string what, TimeSpan? guard = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = guard ?? Guard;
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up after {limit.TotalSeconds} s waiting for {what}");
            Thread.Sleep(1);
        }
    }
}
