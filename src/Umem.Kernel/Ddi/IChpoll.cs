using Umem.Platform;

namespace Umem.Kernel.Ddi;

/// <summary>chpoll(9E).</summary>
public interface IChpoll
{
    /// <summary>
    /// chpoll(9E): report which of <paramref name="events"/> are ready in <paramref name="revents"/>; when none
    /// are and <paramref name="anyYet"/> is false, return the pollhead the driver will wake
    /// (<see cref="PollHead.Wakeup"/>, pollwakeup(9F)) in <paramref name="pollHead"/>.
    /// </summary>
    Errno Chpoll(DevT dev, PollEvents events, bool anyYet, out PollEvents revents, out PollHead? pollHead);
}
