using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Host.Admin;

/// <summary>
/// Who may do what through the admin socket, from SO_PEERCRED only: reads (modinfo, pmap, prctl, stat) root, the
/// host's uid and members of the configured admin group; changes (modload, modunload, a resource-control value,
/// reload) root and the host's uid, as on illumos changing them needs the privilege. Anyone else gets EPERM.
/// </summary>
internal sealed class AdminAccess(uint hostUid, uint? adminGroup)
{
    /// <summary>The admin group, if one is configured.</summary>
    internal uint? AdminGroup => adminGroup;

    /// <summary>
    /// Errno.None when <paramref name="peer"/> may make <paramref name="request"/>, else EPERM and why.
    /// <paramref name="groups"/> reads the peer's supplementary groups, only when the answer depends on them.
    /// </summary>
    internal Errno Check(AdminRequest request, PeerCredentials peer, Func<IReadOnlyList<uint>> groups, out string? reason)
    {
        reason = null;
        if (peer.Uid == 0 || peer.Uid == hostUid) return Errno.None;
        if (request.IsChange)
        {
            reason = $"{AdminRequest.Format(request.Op!.Value)} changes the host: only root and uid {hostUid} (the host's) may";
            return Errno.EPERM;
        }
        if (adminGroup is { } gid && (peer.Gid == gid || groups().Contains(gid))) return Errno.None;
        reason = adminGroup is { } g
            ? $"reading the host needs root, uid {hostUid} (the host's) or group {g}"
            : $"reading the host needs root or uid {hostUid} (the host's); no admin group is configured";
        return Errno.EPERM;
    }
}
