using CsCheck;

namespace Umem.Tests.Model;

/// <summary>The model test counts the process's descriptors: it runs alone.</summary>
[CollectionDefinition(nameof(ModelCollection), DisableParallelization = true)]
public sealed class ModelCollection;

/// <summary>
/// Random sequences of open, mmap, munmap (part or whole), ioctl (lock, unlock, realloc), register, unregister,
/// close, disconnect and kill from several clients of one in-process host; after every step the host's state
/// (kernel mappings and regions, the driver's opens and locks, the allocator's cookies, bytes, memfds, deferred
/// frees and cache, locked bytes of the project and the zone, registered buffers, descriptors) equals the model's
/// (<see cref="ClientModel"/>), and after all clients are killed everything is back to the baseline.
/// </summary>
/// <remarks>
/// CsCheck prints the seed of a failing sequence (shrunk); replay it with <c>seed:</c> in <c>Sample</c> or the
/// CsCheck_Seed environment variable. CsCheck_Iter raises the number of sequences for a longer run.
/// </remarks>
[Collection(nameof(ModelCollection))]
public sealed class RandomClientModelTests
{
    private static readonly Gen<Op> GenOp =
        Gen.Select(Gen.Int[0, 22], Gen.Int[0, ClientModel.Clients - 1], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 7], Gen.Int[0, 7])
            .Select((k, client, a, b, c, d) => new Op(k switch
            {
                0 or 1 or 2 => OpKind.Open,
                3 or 4 or 5 => OpKind.Map,
                6 or 7 => OpKind.Unmap,
                8 => OpKind.DisposeMapping,
                9 or 10 => OpKind.Register,
                11 => OpKind.Unregister,
                12 or 13 or 14 or 15 or 16 => OpKind.Lock,
                17 or 18 => OpKind.Unlock,
                19 => OpKind.Realloc,
                20 => OpKind.Close,
                21 => OpKind.Disconnect,
                _ => OpKind.Kill,
            }, client, a, b, c, d));

    /// <summary>Sequences per run: 25 (about 6 s; a host's disposal costs 0.2 s), or CsCheck_Iter for a longer run.</summary>
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), out int n) && n > 0 ? n : 25;

    [Fact]
    public void HostStateEqualsTheModelAfterEveryStep()
    {
        ClientModel.Warm();
        // Every client opens first (read-only or read-write), so that sequences spend their steps on open devices.
        var genSequence = Gen.Select(Gen.Int[0, 3].Array[ClientModel.Clients], GenOp.Array[1, 60])
            .Select((access, rest) => (Op[])[.. access.Select((a, i) => new Op(OpKind.Open, i, a, 0, 0, 0)), .. rest]);
        genSequence.Sample(ops =>
        {
            var model = ClientModel.Start();
            try
            {
                model.AssertMatches("start");
                for (int i = 0; i < ops.Length; i++)
                {
                    model.Run(ops[i]);
                    model.AssertMatches($"step {i} {ops[i]}");
                }
                model.KillAll();
                model.AssertMatches("killing every client");
            }
            finally
            {
                model.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }, iter: Iterations, threads: 1, print: ops => string.Join(' ', ops));
    }
}
