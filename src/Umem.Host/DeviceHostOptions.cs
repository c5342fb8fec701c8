using Umem.Platform;

namespace Umem.Host;

/// <summary>Settings of a <see cref="DeviceHost"/>.</summary>
public sealed class DeviceHostOptions
{
    /// <summary>
    /// Where node sockets are created. Default: /run/umem/dev for root, $XDG_RUNTIME_DIR/umem/dev otherwise
    /// (/tmp/umem-UID/dev without XDG_RUNTIME_DIR).
    /// </summary>
    public string DeviceDirectory { get; set; } = DefaultDeviceDirectory();

    /// <summary>
    /// The admin socket (docs/protocol.md, "The admin socket"): null puts it beside the device directory, as
    /// <c>admin</c> in the device directory's parent (/run/umem/admin beside /run/umem/dev); empty: no admin socket.
    /// </summary>
    public string? AdminSocket { get; set; }

    /// <summary>A group whose members may read through the admin socket (modinfo, pmap, prctl, stat); null: none.
    /// Changes stay root's and the host's uid's.</summary>
    public uint? AdminGroup { get; set; }

    /// <summary>Where the admin socket is (null when there is none).</summary>
    public string? AdminSocketPath => AdminSocket switch
    {
        null => Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(DeviceDirectory)) ?? "/", AdminSocketName),
        "" => null,
        _ => AdminSocket,
    };

    /// <summary>The admin socket's name in the directory above the device directory.</summary>
    public const string AdminSocketName = "admin";

    /// <summary>prctl(PR_SET_DUMPABLE, 0) at start, so a client with the host's uid cannot open the host's fds
    /// through /proc/PID/fd. On by default.</summary>
    public bool SetNonDumpable { get; set; } = true;

    /// <summary>Raise the soft RLIMIT_NOFILE to the hard limit at start. On by default.</summary>
    public bool RaiseFileLimit { get; set; } = true;

    /// <summary>
    /// How long a reply may wait for a client that does not read it before the host drops the connection. The wait
    /// holds no thread: the connection reads no request meanwhile, and the host's epoll thread says when there is room.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After answering, how long a connection's thread waits for the client's next request before it goes back
    /// to the asynchronous wait (which holds no thread but costs a thread hop, about 10 µs here, per request). A
    /// client issuing requests back to back is then served at the speed of a blocking server. At most one connection
    /// per CPU lingers at once, so many busy clients never hold the thread pool's threads. Zero turns it off.
    /// </summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMicroseconds(250);

    /// <summary>
    /// The first part of <see cref="Linger"/> spent polling without sleeping. A thread that sleeps in ppoll must be
    /// woken by the client's send, and waking an idle CPU costs more than a round trip's own work (on a VM most of
    /// all); a request that comes within the spin is picked up by a thread that never slept. Zero: sleep at once.
    /// It is part of <see cref="Linger"/>, never longer (no linger, no spin).
    /// </summary>
    public TimeSpan LingerSpin { get; set; } = TimeSpan.FromMicroseconds(50);

    /// <summary>A connection that has not said HELLO within this time is closed (it holds an fd and buffers).</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Connections served at once from every uid but root (each holds a descriptor of the host's); beyond it a new
    /// connection is closed at once and the refusal logged. Root is never refused.
    /// </summary>
    public int MaxConnections { get; set; } = 8192;

    /// <summary>Connections served at once from one uid other than root (closed at once beyond it).</summary>
    public int MaxConnectionsPerUid { get; set; } = 2048;

    /// <summary>Opens one connection may hold (EMFILE beyond).</summary>
    public int MaxOpensPerConnection { get; set; } = 1024;

    /// <summary>Mappings one connection may hold (ENOMEM beyond).</summary>
    public int MaxMappingsPerConnection { get; set; } = 65536;

    /// <summary>Registered buffers one connection may hold (ENOMEM beyond).</summary>
    public int MaxBuffersPerConnection { get; set; } = 1024;

    /// <summary>
    /// Bytes of application memory one connection may have registered at once (ENOMEM beyond): the host maps every
    /// registered buffer, so this bounds the address space a client can make the host hold. Default 16 GiB.
    /// </summary>
    public long MaxRegisteredBytesPerConnection { get; set; } = 16L << 30;

    /// <summary>
    /// Opens all connections of one uid other than root may hold at once (EMFILE beyond): without it a uid's
    /// <see cref="MaxConnectionsPerUid"/> connections would multiply <see cref="MaxOpensPerConnection"/>.
    /// </summary>
    public int MaxOpensPerUid { get; set; } = 16384;

    /// <summary>How long a DUP_PREPARE token may be redeemed by the forked child (INHERIT; ETIMEDOUT after).</summary>
    public TimeSpan InheritTokenLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>DUP_PREPARE tokens one uid may have pending at once (ENOMEM beyond); each may keep a mapping past its connection's end until it expires.</summary>
    public int MaxInheritTokensPerUid { get; set; } = 16384;

    /// <summary>Mappings all connections of one uid other than root may hold at once (ENOMEM beyond).</summary>
    public int MaxMappingsPerUid { get; set; } = 262144;

    /// <summary>Bytes all connections of one uid other than root may have registered at once (ENOMEM beyond). Default 64 GiB.</summary>
    public long MaxRegisteredBytesPerUid { get; set; } = 64L << 30;

    /// <summary>
    /// Descriptors of the host's soft RLIMIT_NOFILE kept for the listener, the host's own work and root clients: a
    /// connection or a mapping of another uid that would leave fewer free is refused (the connection closed at
    /// accept; MMAP ENFILE). Zero: 5 % of the limit, at least 64.
    /// </summary>
    public int FdReserve { get; set; }

    /// <summary>
    /// A connection past HELLO that holds nothing (no open file, mapping or registered buffer) and sends nothing for
    /// this long is closed. A connection holding something is never closed for idleness (the limits bound what it
    /// holds). Zero: off.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The default device directory for this process's uid.</summary>
    public static string DefaultDeviceDirectory()
    {
        uint uid = ProcessHardening.EffectiveUid;
        if (uid == 0) return "/run/umem/dev";
        string? xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(xdg)
            ? Path.Combine(Path.GetTempPath(), $"umem-{uid}", "dev")
            : Path.Combine(xdg, "umem", "dev");
    }

    /// <summary>
    /// Sets one limit or timeout by its property name (<c>umem host --set NAME=VALUE</c>): integers as they are,
    /// times in milliseconds. Unknown names and malformed values are ArgumentException naming them.
    /// </summary>
    public void Set(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        bool isTime = name is nameof(SendTimeout) or nameof(HelloTimeout) or nameof(IdleTimeout) or nameof(Linger) or nameof(LingerSpin);
        if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            || (!isTime && name != nameof(MaxRegisteredBytesPerConnection) && name != nameof(MaxRegisteredBytesPerUid) && n > int.MaxValue))
            throw new ArgumentException($"{name}: \"{value}\" is not a non-negative {(isTime ? "number of milliseconds" : "integer")} in range", nameof(value));
        var ms = TimeSpan.FromMilliseconds(n);
        int i = (int)Math.Min(n, int.MaxValue);
        switch (name)
        {
            case nameof(SendTimeout): SendTimeout = ms; break;
            case nameof(HelloTimeout): HelloTimeout = ms; break;
            case nameof(IdleTimeout): IdleTimeout = ms; break;
            case nameof(Linger): Linger = ms; break;
            case nameof(LingerSpin): LingerSpin = ms; break;
            case nameof(MaxConnections): MaxConnections = i; break;
            case nameof(MaxConnectionsPerUid): MaxConnectionsPerUid = i; break;
            case nameof(MaxOpensPerConnection): MaxOpensPerConnection = i; break;
            case nameof(MaxMappingsPerConnection): MaxMappingsPerConnection = i; break;
            case nameof(MaxBuffersPerConnection): MaxBuffersPerConnection = i; break;
            case nameof(MaxRegisteredBytesPerConnection): MaxRegisteredBytesPerConnection = n; break;
            case nameof(MaxOpensPerUid): MaxOpensPerUid = i; break;
            case nameof(MaxMappingsPerUid): MaxMappingsPerUid = i; break;
            case nameof(MaxRegisteredBytesPerUid): MaxRegisteredBytesPerUid = n; break;
            case nameof(FdReserve): FdReserve = i; break;
            default: throw new ArgumentException($"no host setting is called \"{name}\"", nameof(name));
        }
    }

    internal void Validate()
    {
        if (string.IsNullOrEmpty(DeviceDirectory) || !Path.IsPathRooted(DeviceDirectory))
            throw new ArgumentException($"the device directory must be an absolute path, not \"{DeviceDirectory}\"", nameof(DeviceDirectory));
        if (Linger < TimeSpan.Zero || Linger > TimeSpan.FromMilliseconds(100))
            throw new ArgumentOutOfRangeException(nameof(Linger), Linger, "must be between 0 and 100 ms");
        if (LingerSpin < TimeSpan.Zero || LingerSpin > TimeSpan.FromMilliseconds(100))
            throw new ArgumentOutOfRangeException(nameof(LingerSpin), LingerSpin, "must be between 0 and 100 ms");
        if (HelloTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HelloTimeout), HelloTimeout, "must be positive");
        if (SendTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(SendTimeout), SendTimeout, "must be positive");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerUid, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOpensPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMappingsPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBuffersPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRegisteredBytesPerConnection, SystemPage.Size);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOpensPerUid, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMappingsPerUid, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRegisteredBytesPerUid, SystemPage.Size);
        ArgumentOutOfRangeException.ThrowIfNegative(FdReserve);
        if (AdminSocket is { Length: > 0 } admin && !Path.IsPathFullyQualified(admin))
            throw new ArgumentException($"the admin socket must be an absolute path, not \"{admin}\"", nameof(AdminSocket));
        if (IdleTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(IdleTimeout), IdleTimeout, "must be zero (off) or positive");
    }
}
