using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Umem.Protocol;

/// <summary>The 16 random bytes of a DUP_PREPARE reply, as two u64 halves.</summary>
public readonly record struct InheritToken(ulong Low, ulong High)
{
    /// <summary>Bytes on the wire.</summary>
    public const int Size = 16;

    /// <summary>A fresh token from the system's cryptographic generator.</summary>
    public static InheritToken NewRandom()
    {
        Span<byte> b = stackalloc byte[Size];
        RandomNumberGenerator.Fill(b);
        return Read(b);
    }

    /// <summary>Reads the 16 bytes at the start of <paramref name="source"/>.</summary>
    public static InheritToken Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));

    /// <summary>Writes the 16 bytes at the start of <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Low);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], High);
    }

    /// <summary>The token as 32 hex digits (tests and the command line; never logged).</summary>
    public string ToHex()
    {
        Span<byte> b = stackalloc byte[Size];
        CopyTo(b);
        return Convert.ToHexStringLower(b);
    }

    /// <summary>Parses 32 hex digits.</summary>
    public static InheritToken FromHex(string hex) => Read(Convert.FromHexString(hex));

    /// <summary>The token's string form hides the secret.</summary>
    public override string ToString() => "token";
}
