using Umem.Platform;
using Umem.Protocol;

namespace Umem.Host;

/// <summary>
/// The buffers one message is received, handled and answered with: 64 KiB in, 64 KiB out, and the fd list of an
/// MMAP reply. A connection borrows a set per message (<see cref="Pool"/>), so an idle connection holds none and the
/// host needs only as many sets as it handles messages at once.
/// </summary>
internal sealed class MessageBuffers
{
    internal byte[] Receive { get; } = GC.AllocateUninitializedArray<byte>(Wire.MaxMessage);

    internal byte[] Send { get; } = GC.AllocateUninitializedArray<byte>(Wire.MaxMessage);

    internal SafeFd[] SendFds { get; } = new SafeFd[Wire.MaxFds];

    /// <summary>A stack of sets: renting and returning allocate nothing once the host has made as many as it uses at once.</summary>
    internal sealed class Pool
    {
        private readonly Lock _gate = new();
        private readonly Stack<MessageBuffers> _free = new();

        internal MessageBuffers Rent()
        {
            lock (_gate)
            {
                if (_free.TryPop(out var b)) return b;
            }
            return new MessageBuffers();
        }

        internal void Return(MessageBuffers buffers)
        {
            lock (_gate) _free.Push(buffers);
        }
    }
}
