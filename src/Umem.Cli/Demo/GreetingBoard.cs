using System.Runtime.CompilerServices;
using System.Text;

namespace Umem.Cli.Demo;

/// <summary>
/// The demo's shared page: 64 slots of 64 bytes, laid out exactly as clients/c/examples/umem_greet.c does it:
/// <c>{ u32 pid; u32 model_bits; u32 ready; u32 reserved; char greeting[48]; }</c>. An application claims the
/// first free slot with a compare-and-swap on <c>pid</c>, writes its greeting, then publishes it with a release
/// store of <c>ready = 1</c>; readers load <c>ready</c> with acquire semantics before reading the greeting.
/// </summary>
public readonly unsafe struct GreetingBoard
{
    public const int SlotSize = 64;
    public const int SlotCount = 64;
    public const int GreetingBytes = 48;
    public const int Bytes = SlotSize * SlotCount;

    private readonly byte* _base;

    public GreetingBoard(nint address) => _base = (byte*)address;

    /// <summary>Claims a free slot for <paramref name="pid"/> and publishes the greeting; -1 when the board is full.</summary>
    public int Post(int pid, int modelBits, string greeting)
    {
        for (int i = 0; i < SlotCount; i++)
        {
            ref int slotPid = ref Field(i, 0);
            if (Interlocked.CompareExchange(ref slotPid, pid, 0) != 0) continue;
            Field(i, 4) = modelBits;
            var text = new Span<byte>(_base + i * SlotSize + 16, GreetingBytes);
            text.Clear();
            Encoding.UTF8.GetBytes(greeting.AsSpan(0, Math.Min(greeting.Length, GreetingBytes - 1)), text);
            Volatile.Write(ref Field(i, 8), 1);
            return i;
        }
        return -1;
    }

    /// <summary>The slots whose greeting is published.</summary>
    public List<Greeting> ReadAll()
    {
        var seen = new List<Greeting>();
        for (int i = 0; i < SlotCount; i++)
        {
            if (Volatile.Read(ref Field(i, 8)) != 1) continue;
            var text = new ReadOnlySpan<byte>(_base + i * SlotSize + 16, GreetingBytes);
            int end = text.IndexOf((byte)0);
            seen.Add(new Greeting(i, Field(i, 0), Field(i, 4), Encoding.UTF8.GetString(end < 0 ? text : text[..end])));
        }
        return seen;
    }

    private ref int Field(int slot, int offset) => ref Unsafe.AsRef<int>(_base + slot * SlotSize + offset);
}

/// <summary>One published slot.</summary>
public readonly record struct Greeting(int Slot, int Pid, int ModelBits, string Text);
