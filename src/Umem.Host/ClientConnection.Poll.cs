using Umem.Kernel.Ddi;
using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// POLL and EVENT (version 3): chpoll(9E) for a handle, and a one-shot EVENT when the driver's pollwakeup(9F) says
/// an armed event happened. At most one armed poll per open (a new POLL replaces it); no thread waits: the EVENT is
/// sent by the thread that called pollwakeup.
/// </summary>
internal sealed partial class ClientConnection
{
    private const PollEvents AlwaysReported = PollEvents.Err | PollEvents.Hup | PollEvents.Nval;

    // Armed polls by handle. Touched by the connection's loop and by the drivers' pollwakeup threads.
    private readonly Dictionary<ulong, ArmedPoll> _armed = [];
    private readonly Lock _pollGate = new();

    private bool Poll(ReadOnlySpan<byte> msg, in MessageHeader h)
    {
        var error = PollRequest.TryRead(msg, out var req);
        if (error != Errno.None) return Fail(h, error);
        if (!_opens.TryGetValue(req.Handle, out var file)) return Fail(h, Errno.EBADF);
        Disarm(req.Handle); // one armed poll per open: a new POLL replaces the old one
        var events = (PollEvents)req.Events;
        PollEvents revents;
        bool armed = false;
        try
        {
            revents = file.Poll(events, anyYet: false, out var head);
            if (revents == PollEvents.None && (req.Flags & PollRequest.Arm) != 0 && head is not null)
            {
                armed = Arm(req.Handle, h.Seq, events, head);
                // A wakeup between chpoll and the subscription would be lost: ask again, now that it would be seen.
                revents = file.Poll(events, anyYet: true, out _);
                if (revents != PollEvents.None)
                {
                    Disarm(req.Handle);
                    armed = false;
                }
            }
        }
        catch (Exception e)
        {
            Disarm(req.Handle);
            return KernelError(h, e, "poll");
        }
        if (revents == PollEvents.None || (req.Flags & PollRequest.EventNow) == 0)
            return Send(new PollReply((ushort)revents, armed).Write(_send, h.Seq));
        // EventNow: the client waits on its socket (the preload's readiness source), so what is ready now is told too.
        var message = new byte[PollEvent.Size];
        new PollEvent(req.Handle, (ushort)revents).Write(message, h.Seq);
        if (!Send(new PollReply((ushort)revents, Armed: true).Write(_send, h.Seq))) return false;
        SendUnsolicited(message);
        return true;
    }

    private bool Arm(ulong handle, uint seq, PollEvents events, PollHead head)
    {
        var poll = new ArmedPoll(handle, seq, events | AlwaysReported);
        lock (_pollGate) _armed[handle] = poll;
        var subscription = head.Subscribe(ev => OnWakeup(poll, ev));
        bool kept;
        lock (_pollGate)
            if (kept = _armed.TryGetValue(handle, out var now) && now == poll) poll.Subscription = subscription;
        if (!kept) subscription.Dispose(); // woken (or replaced) before it was kept
        return kept;
    }

    /// <summary>Forgets the armed poll of <paramref name="handle"/>, if any (a new POLL, CLOSE, the end).</summary>
    private void Disarm(ulong handle)
    {
        IDisposable? subscription;
        lock (_pollGate)
        {
            if (!_armed.Remove(handle, out var poll)) return;
            subscription = poll.Subscription;
        }
        subscription?.Dispose();
    }

    private void DisarmAll()
    {
        IDisposable?[] all;
        lock (_pollGate)
        {
            all = [.. _armed.Values.Select(p => p.Subscription)];
            _armed.Clear();
        }
        foreach (var subscription in all) subscription?.Dispose();
    }

    /// <summary>pollwakeup(9F) of an armed handle's pollhead, on the driver's thread: one EVENT, then disarmed.</summary>
    private void OnWakeup(ArmedPoll poll, PollEvents events)
    {
        var revents = events & poll.Events;
        if (revents == PollEvents.None) return;
        IDisposable? subscription;
        lock (_pollGate)
        {
            if (!_armed.TryGetValue(poll.Handle, out var now) || now != poll) return;
            _armed.Remove(poll.Handle);
            subscription = poll.Subscription;
        }
        subscription?.Dispose(); // null when woken before Arm kept it: Arm disposes it then
        var message = new byte[PollEvent.Size];
        new PollEvent(poll.Handle, (ushort)revents).Write(message, poll.Seq);
        SendUnsolicited(message);
    }

    /// <summary>One armed poll: the handle, the arming POLL's seq and the events that end it.</summary>
    private sealed class ArmedPoll(ulong handle, uint seq, PollEvents events)
    {
        public ulong Handle { get; } = handle;
        public uint Seq { get; } = seq;
        public PollEvents Events { get; } = events;
        public IDisposable? Subscription { get; set; }
    }
}
