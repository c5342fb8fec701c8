using Microsoft.Extensions.Logging;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>The host's log messages (source-generated; nothing is formatted unless the level is enabled).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "umemd: serving nodes in {Directory} as uid {Uid}")]
    internal static partial void Started(ILogger logger, string directory, uint uid);

    [LoggerMessage(2, LogLevel.Warning, "umemd: trust model: a client running as root or as uid {Uid} (the host's) can reopen a granted memfd with more rights, so read-only grants hold only against other uids")]
    internal static partial void TrustModel(ILogger logger, uint uid);

    [LoggerMessage(3, LogLevel.Information, "umemd: published {Node} at {Path} (owner {Uid}:{Gid}, mode {Mode})")]
    internal static partial void Published(ILogger logger, string node, string path, uint uid, uint gid, string mode);

    [LoggerMessage(4, LogLevel.Information, "umemd: removed {Node}")]
    internal static partial void Unpublished(ILogger logger, string node);

    [LoggerMessage(5, LogLevel.Debug, "umemd: {Session} connected")]
    internal static partial void Connected(ILogger logger, ClientSession session);

    [LoggerMessage(6, LogLevel.Debug, "umemd: {Session} disconnected; released {Mappings} mappings, {Buffers} buffers, {Opens} opens")]
    internal static partial void Disconnected(ILogger logger, ClientSession session, int mappings, int buffers, int opens);

    [LoggerMessage(7, LogLevel.Information, "umemd: {Session} is trusted (root or the host's uid): read-only grants are not enforced against it")]
    internal static partial void TrustedClient(ILogger logger, ClientSession session);

    [LoggerMessage(8, LogLevel.Warning, "umemd: {Session}: cannot tell its data model ({Problem}); assuming LP64")]
    internal static partial void UnknownDataModel(ILogger logger, ClientSession session, string problem);

    [LoggerMessage(9, LogLevel.Warning, "umemd: client pid {Pid} on {Node} refused: {Error}")]
    internal static partial void Rejected(ILogger logger, int pid, string node, Errno error);

    [LoggerMessage(10, LogLevel.Warning, "umemd: {Session}: bad {Type} request (seq {Seq}): {Error}{Closing} ({Dropped} similar lines dropped before this one)")]
    internal static partial void BadRequest(ILogger logger, ClientSession? session, MessageType type, uint seq, Errno error, string closing, long dropped);

    [LoggerMessage(19, LogLevel.Warning, "umemd: {Session}: dropped: it left a reply unread for {Timeout} ({Dropped} similar lines dropped before this one)")]
    internal static partial void SlowReader(ILogger logger, ClientSession? session, TimeSpan timeout, long dropped);

    [LoggerMessage(20, LogLevel.Warning, "umemd: {Session}: closed: it held nothing and sent nothing for {Timeout} ({Dropped} similar lines dropped before this one)")]
    internal static partial void Idle(ILogger logger, ClientSession? session, TimeSpan timeout, long dropped);

    [LoggerMessage(18, LogLevel.Warning, "umemd: connection of pid {Pid} uid {Uid} on {Node} refused: the limit of {Limit} is reached ({Dropped} similar lines dropped before this one)")]
    internal static partial void ConnectionRefused(ILogger logger, int pid, uint uid, string node, string limit, long dropped);

    [LoggerMessage(17, LogLevel.Warning, "umemd: {Session}: {Type} refused with {Error}: the limit of {Value} {Limit} is reached ({Dropped} similar lines dropped before this one)")]
    internal static partial void OverLimit(ILogger logger, ClientSession? session, MessageType type, Errno error, string limit, long value, long dropped);

    [LoggerMessage(11, LogLevel.Error, "umemd: {Session}: the kernel failed in {Call}")]
    internal static partial void KernelFailed(ILogger logger, ClientSession? session, string call, Exception exception);

    [LoggerMessage(12, LogLevel.Debug, "umemd: {Session}: {Call} refused: {Reason}")]
    internal static partial void Refused(ILogger logger, ClientSession? session, string call, string reason);

    [LoggerMessage(13, LogLevel.Debug, "umemd: {Session}: connection lost: {Reason}")]
    internal static partial void ConnectionLost(ILogger logger, ClientSession? session, string reason);

    [LoggerMessage(14, LogLevel.Warning, "umemd: accept on {Node} failed: {Reason}")]
    internal static partial void AcceptFailed(ILogger logger, string node, string reason);

    [LoggerMessage(15, LogLevel.Information, "umemd: soft RLIMIT_NOFILE raised from {Before} to {After}")]
    internal static partial void FileLimit(ILogger logger, ulong before, ulong after);

    [LoggerMessage(16, LogLevel.Warning, "umemd: {Setting} failed: {Reason}")]
    internal static partial void HardeningFailed(ILogger logger, string setting, string reason);

    [LoggerMessage(40, LogLevel.Warning, "umemd: {Session}: INHERIT refused with {Error}: {Reason} ({Dropped} similar lines dropped before this one)")]
    internal static partial void InheritRefused(ILogger logger, ClientSession? session, Errno error, string reason, long dropped);

    [LoggerMessage(41, LogLevel.Information, "umemd: {Session} inherited mapping {Parent} as mapping {Mapping} ({Length} bytes)")]
    internal static partial void Inherited(ILogger logger, ClientSession? session, long parent, long mapping, long length);
    [LoggerMessage(21, LogLevel.Information, "umemd: {Session} went away holding {Mappings} mappings, {Buffers} buffers, {Opens} opens: released ({Dropped} similar lines dropped before this one)")]
    internal static partial void ClientGone(ILogger logger, ClientSession session, int mappings, int buffers, int opens, long dropped);

    [LoggerMessage(22, LogLevel.Warning, "umemd: ddi_umem_lock of {Bytes} bytes for pid {Pid} denied by {Entity}'s {Control} (usage {Usage}, value {Value}) ({Dropped} similar lines dropped before this one)")]
    internal static partial void RctlDenied(ILogger logger, ulong bytes, int pid, string entity, string control, ulong usage, ulong value, long dropped);

    [LoggerMessage(30, LogLevel.Information, "umemd: admin socket at {Path}; reads: root, uid {Uid}{Group}; changes: root and uid {Uid}")]
    internal static partial void AdminListening(ILogger logger, string path, uint uid, string group);

    [LoggerMessage(31, LogLevel.Warning, "umemd: no admin socket: {Reason}")]
    internal static partial void AdminDisabled(ILogger logger, string reason);

    [LoggerMessage(32, LogLevel.Warning, "umemd: admin {Op} of pid {Pid} uid {Uid} refused with {Error}: {Reason} ({Dropped} similar lines dropped before this one)")]
    internal static partial void AdminRefused(ILogger logger, string op, int pid, uint uid, Errno error, string reason, long dropped);

    [LoggerMessage(33, LogLevel.Warning, "umemd: admin connection of pid {Pid} uid {Uid}: bad message: {Error}: {Reason}{Closing} ({Dropped} similar lines dropped before this one)")]
    internal static partial void AdminBadMessage(ILogger logger, int pid, uint uid, Errno error, string reason, string closing, long dropped);

    [LoggerMessage(34, LogLevel.Information, "umemd: admin {Op} by pid {Pid} uid {Uid}: {Result}")]
    internal static partial void AdminChange(ILogger logger, string op, int pid, uint uid, string result);

    [LoggerMessage(200, LogLevel.Information, "umem host: loaded {Module} from {Path}")]
    internal static partial void ModuleLoaded(ILogger logger, string module, string path);

    [LoggerMessage(202, LogLevel.Warning, "umem host: {Module} leaked {Leak}")]
    internal static partial void ModuleLeak(ILogger logger, string module, string leak);

    [LoggerMessage(204, LogLevel.Information, "umem host: reloaded the project and zones files")]
    internal static partial void Reloaded(ILogger logger);

    [LoggerMessage(205, LogLevel.Error, "umem host: reload refused, the running values stay: {Reason}")]
    internal static partial void ReloadRefused(ILogger logger, string reason);

    [LoggerMessage(206, LogLevel.Information, "umem host: unloaded {Module}; {Leaks} cookies leaked")]
    internal static partial void ModuleUnloaded(ILogger logger, string module, int leaks);

    /// <summary>cmn_err(9F) at the level its CE_ level says: CE_CONT and CE_NOTE Information, CE_WARN Warning, CE_PANIC Error.</summary>
    internal static void KernelMessage(ILogger logger, Kernel.Ddi.DdiMessage message)
    {
        var level = message.Level switch
        {
            Kernel.Ddi.CeLevel.Warn => LogLevel.Warning,
            Kernel.Ddi.CeLevel.Panic => LogLevel.Error,
            _ => LogLevel.Information,
        };
        KernelMessage(logger, level, message);
        if (message.Exception is { } e) DriverStack(logger, message.Module, e);
    }

    [LoggerMessage(EventId = 100, Message = "kernel: {Message}")]
    private static partial void KernelMessage(ILogger logger, LogLevel level, Kernel.Ddi.DdiMessage message);

    [LoggerMessage(101, LogLevel.Debug, "kernel: {Module}: where the driver threw")]
    private static partial void DriverStack(ILogger logger, string module, Exception exception);
}
