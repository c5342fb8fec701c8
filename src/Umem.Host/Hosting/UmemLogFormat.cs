namespace Umem.Host.Hosting;

/// <summary>How umemd writes its log lines.</summary>
public enum UmemLogFormat
{
    /// <summary>One line per message, for a person at a terminal.</summary>
    Simple,

    /// <summary>One JSON object per line, for machines (Microsoft.Extensions.Logging's JSON console formatter).</summary>
    Json,

    /// <summary>syslog priority prefixes (<c>&lt;4&gt;</c>) that journald turns into priorities; the default under systemd.</summary>
    Systemd,
}
