namespace Umem.Kernel.Ddi;

/// <summary>
/// The argument of ioctl(9E): in illumos a user address the driver reads with ddi_copyin(9F) and writes with
/// ddi_copyout(9F). Here the input bytes the application sent and the room it allowed for the answer.
/// </summary>
public ref struct IoctlBuffer
{
    private readonly ReadOnlySpan<byte> _input;
    private readonly Span<byte> _output;

    internal IoctlBuffer(ReadOnlySpan<byte> input, Span<byte> output)
    {
        _input = input;
        _output = output;
        Written = 0;
    }

    /// <summary>The bytes the application passed in.</summary>
    public readonly ReadOnlySpan<byte> Input => _input;

    /// <summary>Bytes the application can receive.</summary>
    public readonly int OutputCapacity => _output.Length;

    /// <summary>Bytes returned so far (the end of the furthest <see cref="CopyOut"/>).</summary>
    public int Written { get; private set; }

    /// <summary>
    /// ddi_copyin(9F): copies <c>destination.Length</c> input bytes from <paramref name="offset"/>. Returns 0, or
    /// -1 when the application did not pass that many (the driver then returns EFAULT).
    /// </summary>
    public readonly int CopyIn(scoped Span<byte> destination, int offset = 0)
    {
        if (offset < 0 || offset > _input.Length || _input.Length - offset < destination.Length) return -1;
        _input.Slice(offset, destination.Length).CopyTo(destination);
        return 0;
    }

    /// <summary>
    /// ddi_copyout(9F): copies <paramref name="source"/> to the output at <paramref name="offset"/>. Returns 0, or
    /// -1 when it does not fit in the room the application allowed (the driver then returns EFAULT).
    /// </summary>
    public int CopyOut(scoped ReadOnlySpan<byte> source, int offset = 0)
    {
        if (offset < 0 || offset > _output.Length || _output.Length - offset < source.Length) return -1;
        source.CopyTo(_output[offset..]);
        Written = Math.Max(Written, offset + source.Length);
        return 0;
    }
}
