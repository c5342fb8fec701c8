using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Umem.Client.Sync;

namespace Umem.Bench;

/// <summary>
/// Bulk transfer through a 1 MiB ring in 64 KiB writes, writer and reader in different processes (issue 7,
/// path 4). This benchmark process writes with <see cref="SharedRingWriter"/>; the C# peer reads with a
/// flow-controlled <see cref="SharedRingReader"/> into a 64 KiB buffer (the ring mapped read-only). Baseline,
/// the same run (issue 17): two C processes doing the same with the C client's ring (clients/c/umem_sync.c: the
/// same layout, flow control, spin budget and sleeping, the writer waiting until everything is read at the end of
/// each batch); for reference, a classic C SPSC ring of the same shape (1 MiB, 64 KiB memcpy in and out,
/// head/tail cursors, spinning without ever sleeping). One operation = one 64 KiB chunk written and read; an
/// invocation ends when the reader has read everything.
/// </summary>
[Config(typeof(SyncBenchConfig))]
public class RingBenchmarks
{
    private const int Capacity = 1 << 20;
    private const int Chunk = 64 << 10;
    private const int ChunksPerInvocation = 512;   // 32 MiB

    private SealedSharedMemory? _ring;
    private SealedSharedMemory? _control;
    private SharedRingWriter? _writer;
    private Process? _peer;
    private NativeFloor? _floor;
    private byte[] _chunk = [];

    [GlobalSetup(Target = nameof(CSharpRing))]
    public void SetupRing()
    {
        _chunk = GC.AllocateArray<byte>(Chunk, pinned: true);
        Random.Shared.NextBytes(_chunk);
        _ring = new SealedSharedMemory(SharedRing.RingLength(Capacity), "ring", populate: true);
        _control = new SealedSharedMemory(SharedRing.ControlLength(1), "ring-control", populate: true);
        _writer = SharedRingWriter.Create(_ring.Address, _ring.Length, Capacity, _control.Address, _control.Length);
        _peer = BenchPeers.StartCSharp("ring-drain", _ring.ProcPath, _control.ProcPath);
        var started = Stopwatch.StartNew();
        while (_writer.ActiveReaders == 0)
        {
            if (started.Elapsed > BenchPeers.Guard)
                throw new TimeoutException($"the C# reader did not join within {BenchPeers.Guard}");
            Thread.Sleep(1);   // setup only: wait for the peer process to start
        }
    }

    [GlobalSetup(Target = nameof(CUmemRing))]
    public void SetupCRing() => _floor = new NativeFloor("umem-ring");

    [GlobalSetup(Target = nameof(CSpscRing))]
    public void SetupFloor() => _floor = new NativeFloor("ring");

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer?.Complete();
        BenchPeers.Stop(_peer);
        _floor?.Dispose();
        _ring?.Dispose();
        _control?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ChunksPerInvocation)]
    public void CUmemRing() => _floor!.Run((long)ChunksPerInvocation * Chunk);

    [Benchmark(OperationsPerInvoke = ChunksPerInvocation)]
    public void CSpscRing() => _floor!.Run((long)ChunksPerInvocation * Chunk);

    [Benchmark(OperationsPerInvoke = ChunksPerInvocation)]
    public void CSharpRing()
    {
        var writer = _writer!;
        ReadOnlySpan<byte> chunk = _chunk;
        for (int i = 0; i < ChunksPerInvocation; i++)
            writer.Write(chunk);
        if (!writer.WaitUntilRead(BenchPeers.Guard))
            throw new TimeoutException($"the reader did not catch up within {BenchPeers.Guard}");
    }
}
