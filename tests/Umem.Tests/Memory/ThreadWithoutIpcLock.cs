using Umem.Platform;

namespace Umem.Tests.Memory;

/// <summary>
/// Runs code on a new thread that lacks CAP_IPC_LOCK, so that mlock obeys RLIMIT_MEMLOCK as it does for an
/// unprivileged host. Capabilities are per thread in Linux: the test process and its other threads keep theirs.
/// </summary>
internal static class ThreadWithoutIpcLock
{
    internal static Task<T> Run<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                DropIpcLock();
                done.SetResult(body());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "no CAP_IPC_LOCK" };
        thread.Start();
        return done.Task;
    }

    private static unsafe void DropIpcLock()
    {
        var header = new Interop.__user_cap_header_struct { version = Interop._LINUX_CAPABILITY_VERSION_3, pid = 0 };
        var data = stackalloc Interop.__user_cap_data_struct[2];
        Interop.ThrowIfError(Interop.capget(&header, data), "capget(0)");
        data[0].effective &= ~(1u << Interop.CAP_IPC_LOCK);
        Interop.ThrowIfError(Interop.capset(&header, data), "capset(0, -CAP_IPC_LOCK)");
        Interop.ThrowIfError(Interop.capget(&header, data), "capget(0)");
        if ((data[0].effective & (1u << Interop.CAP_IPC_LOCK)) != 0)
            throw new InvalidOperationException("CAP_IPC_LOCK is still effective");
    }
}
