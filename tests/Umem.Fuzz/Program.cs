using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Umem.Fuzz;

/// <summary>
/// <c>Umem.Fuzz afl TARGET</c>: SharpFuzz's AFL loop (run under afl-fuzz with instrumented assemblies, tests/fuzz.sh).
/// <c>Umem.Fuzz random TARGET|all SECONDS [SEED]</c>: deterministic random inputs (seeds mutated) for that long.
/// <c>Umem.Fuzz replay TARGET FILE|DIR...</c>: each input once (a crash AFL found, a regression).
/// <c>Umem.Fuzz seeds TARGET DIR</c>: writes the seed inputs (AFL's input directory).
/// TARGET is protocol, host, project or zones. Exit 1 on a finding, which is written to findings/ (or $UMEM_FUZZ_FINDINGS).
/// </summary>
internal static class Program
{
    internal static readonly string[] Targets = ["protocol", "host", "project", "zones"];

    private static int Main(string[] args)
    {
        if (args.Length < 2) return Usage();
        switch (args[0])
        {
            case "afl":
                {
                    // Lazily: instrumented code may run only once SharpFuzz has attached AFL's coverage map.
                    using var target = Target.Create(args[1], lazy: true);
                    SharpFuzz.Fuzzer.Run(stream =>
                    {
                        using var copy = new MemoryStream();
                        stream.CopyTo(copy);
                        target.Run(copy.ToArray());
                    });
                    return 0;
                }
            case "random" when args.Length >= 3:
                {
                    double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
                    int seed = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
                    string[] targets = args[1] == "all" ? Targets : [args[1]];
                    foreach (string name in targets)
                    {
                        if (!RandomRun(name, TimeSpan.FromSeconds(seconds / targets.Length), seed)) return 1;
                    }
                    return 0;
                }
            case "replay" when args.Length >= 3:
                {
                    using var target = Target.Create(args[1]);
                    var files = args[2..].SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a) : [a]).Order(StringComparer.Ordinal);
                    int failed = 0;
                    foreach (string file in files)
                    {
                        try
                        {
                            target.Run(File.ReadAllBytes(file));
                        }
                        catch (Exception e)
                        {
                            failed++;
                            Console.WriteLine($"fuzz {args[1]}: {file}: {e}");
                        }
                    }
                    return failed == 0 ? 0 : 1;
                }
            case "seeds" when args.Length >= 3:
                Directory.CreateDirectory(args[2]);
                foreach (var (input, i) in Seeds.For(args[1]).Select((s, i) => (s, i)))
                    File.WriteAllBytes(Path.Combine(args[2], $"seed{i:D3}"), input);
                return 0;
            default:
                return Usage();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Umem.Fuzz afl TARGET | random TARGET|all SECONDS [SEED] | replay TARGET FILE|DIR... | seeds TARGET DIR");
        Console.Error.WriteLine("targets: " + string.Join(", ", Targets));
        return 2;
    }

    /// <summary>Seeds and their mutations from one seeded generator until the time is up; false on a finding.</summary>
    private static bool RandomRun(string name, TimeSpan time, int seed)
    {
        using var target = Target.Create(name);
        var random = new Random(seed);
        var mutator = new Mutator(random);
        var corpus = Seeds.For(name);
        bool text = name is "project" or "zones";
        var clock = Stopwatch.StartNew();
        long runs = 0;
        foreach (var input in corpus)
        {
            if (!Try(target, name, input, seed, runs++)) return false;
        }
        while (clock.Elapsed < time)
        {
            var input = mutator.Mutate(corpus[random.Next(corpus.Count)], corpus, text);
            if (!Try(target, name, input, seed, runs++)) return false;
        }
        Console.WriteLine($"fuzz {name}: {runs} inputs in {clock.Elapsed.TotalSeconds:F1} s (seed {seed}), no finding");
        return true;
    }

    private static bool Try(Target target, string name, byte[] input, int seed, long run)
    {
        try
        {
            target.Run(input);
            return true;
        }
        catch (Exception e)
        {
            string dir = Environment.GetEnvironmentVariable("UMEM_FUZZ_FINDINGS") ?? "findings";
            Directory.CreateDirectory(dir);
            string file = Path.Combine(dir, $"{name}-{Convert.ToHexString(SHA256.HashData(input))[..16].ToLowerInvariant()}");
            File.WriteAllBytes(file, input);
            Console.WriteLine($"fuzz {name}: finding at input {run} (seed {seed}), saved as {file}:\n{e}");
            return false;
        }
    }
}

/// <summary>A target by name: the host target owns a running host for all its inputs.</summary>
internal sealed class Target : IDisposable
{
    private readonly Action<byte[]> _run;
    private readonly Lazy<HostTarget>? _host;

    private Target(Action<byte[]> run, Lazy<HostTarget>? host = null)
    {
        _run = run;
        _host = host;
    }

    /// <summary>The target called <paramref name="name"/>; with <paramref name="lazy"/>, a host starts at the first input.</summary>
    internal static Target Create(string name, bool lazy = false)
    {
        switch (name)
        {
            case "protocol":
                return new Target(d => ProtocolTarget.Run(d));
            case "project":
                return new Target(d => ConfigFileTargets.Project(d));
            case "zones":
                return new Target(d => ConfigFileTargets.Zones(d));
            case "host":
                {
                    var host = new Lazy<HostTarget>(HostTarget.Start);
                    if (!lazy) _ = host.Value;
                    return new Target(d => host.Value.Run(d), host);
                }
            default:
                throw new ArgumentException($"no target '{name}' ({string.Join(", ", Program.Targets)})", nameof(name));
        }
    }

    internal void Run(byte[] input) => _run(input);

    public void Dispose()
    {
        if (_host is { IsValueCreated: true }) _host.Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
