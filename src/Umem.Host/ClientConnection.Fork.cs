using Umem.Kernel.Devices;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>DUP_PREPARE and INHERIT (version 3): a forked child makes its inherited mappings its own (docs/protocol.md).</summary>
internal sealed partial class ClientConnection
{
    /// <summary>DUP_PREPARE: a one-time token for one of this connection's mappings, for the child about to be forked.</summary>
    private bool DupPrepare(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = IdRequest.TryRead(msg, MessageType.DupPrepare, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_mappings.TryGetValue(req.Id, out var mapping) || mapping.State == MappingState.Unmapped) return Fail(h, Errno.EBADF);
        error = _tokens.Issue(mapping, _session!, out var token);
        if (error == Errno.ENOMEM) return OverLimit(h, error, "inherit tokens per uid", _options.MaxInheritTokensPerUid);
        if (error != Errno.None) return Fail(h, error);
        return Send(new DupPrepareReply(token).Write(_send, h.Seq));
    }

    /// <summary>
    /// INHERIT: the token's mapping becomes a mapping of this connection's open <c>handle</c> (the driver's
    /// devmap_dup(9E) runs for each region), charged to this client. No descriptors are sent: the child already
    /// maps the pages it inherited.
    /// </summary>
    private bool Inherit(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = InheritRequest.TryRead(msg, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var file)) return Fail(h, Errno.EBADF);
        if (_mappings.Count >= _options.MaxMappingsPerConnection)
            return OverLimit(h, Errno.ENOMEM, "mappings per connection", _options.MaxMappingsPerConnection);
        error = _tokens.Redeem(req.Token, _session!, out var parent, out string reason);
        if (error != Errno.None)
        {
            if (_logLimit.TryWrite(out long dropped)) Log.InheritRefused(_log, _session, error, reason, dropped);
            return Send(Reply.WriteError(_send, h.Type, h.Seq, (int)error));
        }
        try
        {
            return InheritCore(h, file, parent!);
        }
        finally
        {
            _tokens.Settle(parent!); // the parent's copy goes now if its connection already ended
        }
    }

    private bool InheritCore(in MessageHeader h, DeviceFile file, DeviceMapping parent)
    {
        if (!_account!.TryCharge(UidHolding.Mappings, 1, _options.MaxMappingsPerUid))
            return OverLimit(h, Errno.ENOMEM, "mappings per uid", _options.MaxMappingsPerUid);
        DeviceMapping mapping;
        try
        {
            mapping = file.Inherit(parent);
        }
        catch (Exception e)
        {
            _account.Release(UidHolding.Mappings, 1);
            if (_logLimit.TryWrite(out long dropped))
                Log.InheritRefused(_log, _session, e is ErrnoException ee ? ee.Errno : Errno.EIO, e.Message, dropped);
            return KernelError(h, e, "inherit");
        }
        _mappings.Add((ulong)mapping.Id, mapping);
        Log.Inherited(_log, _session, parent.Id, mapping.Id, mapping.Length);
        return Send(new InheritReply((ulong)mapping.Id, (ulong)mapping.Length).Write(_send, h.Seq));
    }
}
