using Umem.Kernel;

namespace Umem.Host;

/// <summary>One client connection as the device service sees it: who it is and which node it reached.</summary>
public sealed class ClientSession
{
    private static long s_lastId;

    internal ClientSession(Cred cred, MinorNode node, IReadOnlyCollection<uint> groups)
    {
        Id = Interlocked.Increment(ref s_lastId);
        Cred = cred;
        Node = node;
        Groups = groups;
    }

    /// <summary>A number unique in this host process.</summary>
    public long Id { get; }

    /// <summary>The client's credentials (SO_PEERCRED and /proc; never from a message).</summary>
    public Cred Cred { get; }

    /// <summary>The node the client connected to.</summary>
    public MinorNode Node { get; }

    /// <summary>The client's supplementary groups when it connected.</summary>
    public IReadOnlyCollection<uint> Groups { get; }

    /// <summary>Free for the service to keep per-connection state in.</summary>
    public object? ServiceState { get; set; }

    /// <inheritdoc/>
    public override string ToString() => $"client {Id} ({Cred}) on {Node.Name}";
}
