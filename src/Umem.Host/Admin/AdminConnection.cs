using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Umem.Platform;
using Umem.Protocol.Admin;

namespace Umem.Host.Admin;

/// <summary>
/// One admin connection: counted in with the device connections (the same per-uid and total limits and descriptor
/// reserve, root never refused), then requests one at a time: the header checked as a device message's is (a bad
/// magic, version or length is answered and the connection closed), the JSON payload validated field by field (a bad
/// one is answered EINVAL), the peer authorised, the operation run, the answer sent. The first request must come
/// within the host's HelloTimeout and each later one within its IdleTimeout; a reply the client does not read within
/// SendTimeout drops it.
/// </summary>
internal sealed class AdminConnection(Socket socket, UmemSystem system, AdminAccess access, ILogger log)
{
    private readonly DeviceHostOptions _options = system.Devices.Options;
    private readonly LogRateLimit _logLimit = system.Devices.LogLimit;
    private PeerCredentials _peer;
    private IReadOnlyList<uint>? _groups;

    internal void Shutdown()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    internal async Task RunAsync()
    {
        UidAccount? account = null;
        bool counted = false;
        var admission = system.Devices.Admission;
        var reserve = system.Devices.FdReserve;
        try
        {
            try
            {
                _peer = PeerProcess.GetCredentials(socket.SafeHandle);
            }
            catch (ErrnoException e)
            {
                Log.ConnectionLost(log, null, e.Message);
                return;
            }
            account = admission.TryEnter(_peer.Uid, out string? limit);
            if (account is not null && !(counted = reserve.TryTake(_peer.Uid, 1, out limit))) limit = $"{reserve.Reserve} {limit}";
            if (!counted)
            {
                system.Metrics.Denied(ClientConnection.ConnectionLimitName(limit!));
                if (_logLimit.TryWrite(out long dropped)) Log.ConnectionRefused(log, _peer.Pid, _peer.Uid, "admin", limit!, dropped);
                return;
            }
            var wait = _options.HelloTimeout;
            while (await ServeOneAsync(wait).ConfigureAwait(false))
                wait = _options.IdleTimeout > TimeSpan.Zero ? _options.IdleTimeout : Timeout.InfiniteTimeSpan;
        }
        finally
        {
            if (counted) reserve.Return(1);
            if (account is not null) admission.Exit(account);
            socket.Dispose();
        }
    }

    /// <summary>Reads, checks and answers one request; false when the connection ends.</summary>
    private async Task<bool> ServeOneAsync(TimeSpan wait)
    {
        var header = new byte[AdminWire.HeaderSize];
        if (!await ReceiveAsync(header, wait).ConfigureAwait(false)) return false;
        var error = AdminWire.TryReadHeader(header, AdminWire.MaxRequest, out var h);
        if (error == Errno.None && h.Type != AdminWire.Request) error = Errno.EPROTO;
        if (error != Errno.None)
        {
            // The stream cannot be framed any more: answer, then close, as the device protocol does.
            Bad(error, $"header: {error.Describe()}", closing: true);
            await SendAsync(new AdminReply { Error = error.Name(), Message = "bad header" }, h.Seq).ConfigureAwait(false);
            return false;
        }
        var payload = new byte[h.Length - AdminWire.HeaderSize];
        if (!await ReceiveAsync(payload, _options.HelloTimeout).ConfigureAwait(false)) return false;
        var request = AdminJson.ReadRequest(payload, out string? problem);
        if (request is null)
        {
            Bad(Errno.EINVAL, problem!, closing: false);
            return await SendAsync(new AdminReply { Error = nameof(Errno.EINVAL), Message = problem }, h.Seq).ConfigureAwait(false);
        }
        string op = AdminRequest.Format(request.Op!.Value);
        if (access.AdminGroup is not null && _groups is null && _peer.Uid != 0 && _peer.Uid != ProcessHardening.EffectiveUid)
            _groups = await ReadGroupsAsync().ConfigureAwait(false);
        error = access.Check(request, _peer, () => _groups ?? [], out string? reason);
        if (error != Errno.None)
        {
            system.Metrics.Denied("admin access");
            if (_logLimit.TryWrite(out long dropped)) Log.AdminRefused(log, op, _peer.Pid, _peer.Uid, error, reason!, dropped);
            return await SendAsync(new AdminReply { Error = error.Name(), Message = reason }, h.Seq).ConfigureAwait(false);
        }
        var reply = AdminOperations.Run(system, request, _peer, log);
        return await SendAsync(reply, h.Seq).ConfigureAwait(false);
    }

    /// <summary>
    /// The peer's supplementary groups (/proc through its pidfd), read in a turn at identification shared with device
    /// connections (FairTurns), as that is the costly part of a connection.
    /// </summary>
    private async Task<IReadOnlyList<uint>> ReadGroupsAsync()
    {
        var turns = system.Devices.Admission.Identification;
        long turn = await turns.EnterAsync(_peer.Uid).ConfigureAwait(false);
        try
        {
            return PeerIdentity.Resolve(socket.SafeHandle).Groups;
        }
        catch (ErrnoException)
        {
            return []; // the process is gone: it has no groups to be admitted by
        }
        finally
        {
            turns.Leave(turn);
        }
    }

    private void Bad(Errno error, string reason, bool closing)
    {
        if (_logLimit.TryWrite(out long dropped)) Log.AdminBadMessage(log, _peer.Pid, _peer.Uid, error, reason, closing ? "; closing the connection" : "", dropped);
    }

    /// <summary>Fills <paramref name="buffer"/> within <paramref name="wait"/>; false on end of stream, timeout or error.</summary>
    private async Task<bool> ReceiveAsync(Memory<byte> buffer, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            for (int got = 0; got < buffer.Length;)
            {
                int n = await socket.ReceiveAsync(buffer[got..], SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0) return false;
                got += n;
            }
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="reply"/>; a view larger than the protocol allows is answered EMSGSIZE instead.</summary>
    private async Task<bool> SendAsync(AdminReply reply, uint seq)
    {
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(reply, AdminJson.Default.AdminReply);
        if (payload.Length > AdminWire.MaxReply - AdminWire.HeaderSize)
        {
            payload = JsonSerializer.SerializeToUtf8Bytes(new AdminReply
            {
                Error = nameof(Errno.EMSGSIZE),
                Message = $"the answer ({payload.Length} bytes) is larger than the admin protocol's {AdminWire.MaxReply}: ask for less (pmap PID)",
            }, AdminJson.Default.AdminReply);
        }
        using var timeout = new CancellationTokenSource(_options.SendTimeout);
        try
        {
            await socket.SendAsync(AdminWire.Frame(AdminWire.Reply, seq, payload), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }
}
