using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Umem.Kernel.Devices;
using Umem.Kernel.Modules;
using Umem.Kernel.ResourceControls;
using Umem.Platform;

namespace Umem.Host;

/// <summary>
/// umemd's transport: publishes a kernel's minor nodes as AF_UNIX SOCK_SEQPACKET sockets in the device directory and
/// serves each client connection (HELLO, then OPEN/MMAP/MUNMAP/IOCTL/REGISTER/...) by calling the kernel for the
/// client's process. The kernel makes every decision; the host carries requests, answers and descriptors.
/// </summary>
/// <remarks>
/// Trust model (docs/design.md, /work/shared/design/linux-mechanisms.md): the kernel enforces a read-only grant
/// through an O_RDONLY fd on a 0600 memfd. A client running as root, or as the host's own uid, can reopen such
/// a memfd read-write through /proc, so per-region protection holds only against other uids; the host says so in
/// its log at start and for each such client.
/// </remarks>
public sealed class DeviceHost : IAsyncDisposable
{
    private readonly UmemKernel _kernel;
    private readonly ResourceControlRegistry _controls;
    private readonly DeviceHostOptions _options;
    private readonly ILogger _log;
    private readonly Dictionary<string, NodeListener> _listeners = new(StringComparer.Ordinal);
    private readonly ConnectionTasks<ClientConnection> _connections = new();
    private readonly Lock _gate = new();
    private readonly EpollReadiness _readiness;
    private readonly LingerSlots _lingerSlots = new(Environment.ProcessorCount);
    private readonly MessageBuffers.Pool _bufferPool = new();
    private readonly LogRateLimit _logLimit = new(20);
    private readonly ConnectionAdmission _admission;
    private readonly DescriptorReserve _fdReserve;
    private readonly InheritTokens _tokens;
    private readonly UmemMetrics? _metrics;
    private long _connectionsClosed;
    private bool _disposed;

    /// <summary>
    /// A host for <paramref name="kernel"/>'s nodes, whose clients' processes are placed in projects and zones by
    /// <paramref name="controls"/>. Creates the device directory (0755) and applies the process settings of
    /// <paramref name="options"/>.
    /// </summary>
    public DeviceHost(UmemKernel kernel, ResourceControlRegistry controls, DeviceHostOptions? options = null, ILogger<DeviceHost>? logger = null)
        : this(kernel, controls, options, logger, null)
    {
    }

    /// <summary>A host whose requests and refusals are counted in <paramref name="metrics"/>.</summary>
    internal DeviceHost(UmemKernel kernel, ResourceControlRegistry controls, DeviceHostOptions? options, ILogger<DeviceHost>? logger, UmemMetrics? metrics)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(controls);
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("umemd runs on Linux only");
        _kernel = kernel;
        _controls = controls;
        _options = options ?? new DeviceHostOptions();
        _options.Validate();
        _log = (ILogger?)logger ?? NullLogger.Instance;
        _admission = new ConnectionAdmission(_options.MaxConnections, _options.MaxConnectionsPerUid);
        Harden();
        _fdReserve = new DescriptorReserve(_options.FdReserve); // the soft limit as raised
        _tokens = new InheritTokens(_options.InheritTokenLifetime, _options.MaxInheritTokensPerUid, UnmapOrphan);
        DeviceDirectoryGuard.Prepare(_options.DeviceDirectory);
        _readiness = new EpollReadiness();
        Log.Started(_log, _options.DeviceDirectory, ProcessHardening.EffectiveUid);
        Log.TrustModel(_log, ProcessHardening.EffectiveUid);
    }

    /// <summary>Where the node sockets are.</summary>
    public string DeviceDirectory => _options.DeviceDirectory;

    /// <summary>Connections being served now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Connections that have ended and been released since the host started.</summary>
    public long ConnectionsClosed => Interlocked.Read(ref _connectionsClosed);

    /// <summary>What the connections of <paramref name="uid"/> hold together now (0 when it has none).</summary>
    internal long HeldByUid(uint uid, UidHolding holding) => _admission.Find(uid)?.Held(holding) ?? 0;

    /// <summary>The descriptors the host counts as held for clients now, and its reserve.</summary>
    internal DescriptorReserve FdReserve => _fdReserve;

    /// <summary>Connections in all and per uid: the admin socket's connections are counted in too.</summary>
    internal ConnectionAdmission Admission => _admission;

    /// <summary>The bound on refusal lines, shared by the admin socket.</summary>
    internal LogRateLimit LogLimit => _logLimit;

    /// <summary>The host's settings (limits and timeouts the admin socket shares).</summary>
    internal DeviceHostOptions Options => _options;

    /// <summary>The sessions of the connections being served now.</summary>
    public IReadOnlyList<ClientSession> Sessions => [.. _connections.Items.Select(c => c.Session).OfType<ClientSession>()];

    /// <summary>
    /// Publishes <paramref name="node"/> (ddi_create_minor_node): a socket in the device directory with the node's
    /// owner and group, connectable by every class the node's mode lets open it. Returns the socket's path.
    /// </summary>
    public string Publish(MinorNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listeners.ContainsKey(node.Name))
                throw new ErrnoException(Errno.EEXIST, $"publish \"{node.Name}\"", "this host already publishes that node");
            var listener = NodeListener.Create(node, _options.DeviceDirectory, this, _log);
            _listeners.Add(node.Name, listener);
            listener.Start();
            Log.Published(_log, node.Name, listener.Path, node.Access.Uid, node.Access.Gid, Convert.ToString((int)node.Access.Mode, 8));
            return listener.Path;
        }
    }

    /// <summary>
    /// Removes a node's socket (ddi_remove_minor_node); connections made before go on until they close. False
    /// when the node is not published.
    /// </summary>
    public bool Unpublish(string name)
    {
        NodeListener? listener;
        lock (_gate)
        {
            if (!_listeners.Remove(name, out listener)) return false;
        }
        listener.Dispose();
        Log.Unpublished(_log, name);
        return true;
    }

    /// <summary>Ends every connection on <paramref name="name"/>'s node (or all when null) and waits until each is released.</summary>
    public async Task DisconnectAllAsync(string? name = null)
    {
        await _connections.EndAsync(c => name is null || c.Session?.Node.Name == name, c => c.Shutdown()).ConfigureAwait(false);
        _tokens.Drop(name); // mappings kept for a forked child go with the node's connections
    }

    /// <summary>DUP_PREPARE tokens pending and the mappings kept for them past their connection (tests and diagnostics).</summary>
    internal (int Pending, int Orphans) InheritState => (_tokens.Pending, _tokens.Orphans);

    private void UnmapOrphan(DeviceMapping mapping)
    {
        try
        {
            mapping.Dispose();
        }
        catch (Exception e)
        {
            Log.KernelFailed(_log, null, "munmap", e);
        }
    }

    /// <summary>Stops accepting, removes the sockets, ends every connection and waits until all are released.</summary>
    public async ValueTask DisposeAsync()
    {
        List<NodeListener> listeners;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _connections.Close();
            listeners = [.. _listeners.Values];
            _listeners.Clear();
        }
        foreach (var l in listeners) l.Dispose();
        await DisconnectAllAsync().ConfigureAwait(false);
        _tokens.Dispose();
        _readiness.Dispose();
    }

    internal void StartConnection(Socket socket, MinorNode node)
    {
        var connection = new ClientConnection(socket, node, _kernel, _controls, _options, _readiness, _lingerSlots, _bufferPool, _logLimit, _admission, _fdReserve, _tokens, _log, _metrics);
        if (!_connections.TryStart(connection, connection.RunAsync, () => Interlocked.Increment(ref _connectionsClosed)))
            socket.Dispose();
    }

    private void Harden()
    {
        if (_options.SetNonDumpable)
        {
            try
            {
                ProcessHardening.SetNonDumpable();
            }
            catch (ErrnoException e)
            {
                Log.HardeningFailed(_log, "prctl(PR_SET_DUMPABLE, 0)", e.Message);
            }
        }
        if (_options.RaiseFileLimit)
        {
            try
            {
                var (before, after) = ProcessHardening.RaiseFileLimit();
                if (after != before) Log.FileLimit(_log, before, after);
            }
            catch (ErrnoException e)
            {
                Log.HardeningFailed(_log, "setrlimit(RLIMIT_NOFILE)", e.Message);
            }
        }
    }
}
