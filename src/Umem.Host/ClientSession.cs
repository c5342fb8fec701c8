using Umem.Kernel;
using Umem.Kernel.Locking;
using Umem.Kernel.Modules;
using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// One client connection as the kernel sees it: the application process (its <see cref="UmemProcess"/>, with the
/// credential the kernel told the host) and the node it connected to.
/// </summary>
public sealed class ClientSession
{
    private static long s_lastId;

    internal ClientSession(UmemProcess process, MinorNode node)
    {
        Id = Interlocked.Increment(ref s_lastId);
        Process = process;
        Node = node;
    }

    /// <summary>A number unique in this host process.</summary>
    public long Id { get; }

    /// <summary>The client's process: its registered buffers and resource controls; curproc for its requests.</summary>
    public UmemProcess Process { get; }

    /// <summary>The client's credentials (SO_PEERCRED and /proc; never from a message).</summary>
    public Cred Cred => Process.Cred;

    /// <summary>The client process's parent and start time when it connected (a forked child's proof, INHERIT); null when unreadable.</summary>
    public ProcessStat? Stat { get; init; }

    /// <summary>The node the client connected to.</summary>
    public MinorNode Node { get; }

    /// <inheritdoc/>
    public override string ToString() => $"client {Id} ({Cred}) on {Node.Name}";
}
