using System.Globalization;

namespace Umem.Bench.Scale;

/// <summary>The size of a scale run: <c>scale [--quick] [--connections N] [--mappings N] ...</c>.</summary>
internal sealed record ScaleOptions
{
    /// <summary>Idle client connections held by the worker processes during the mapping curve.</summary>
    public int Connections { get; init; } = 1000;

    /// <summary>Live mappings at the top of the curve (spread evenly over the connections and the cookies).</summary>
    public int Mappings { get; init; } = 100_000;

    /// <summary>One-page cookies the scale driver allocates; device page k is cookie k.</summary>
    public int Cookies { get; init; } = 10_000;

    /// <summary>Worker processes; 0 picks enough to stay well under vm.max_map_count (65530) in each.</summary>
    public int Workers { get; init; }

    /// <summary>Timed probe requests per series and level.</summary>
    public int Samples { get; init; } = 5000;

    /// <summary>Connections of the low point of the connection comparison (at a fixed number of mappings).</summary>
    public int FewConnections { get; init; } = 10;

    /// <summary>
    /// The window in which the processes must stay quiet (twice in a row) before a level is measured, ms; 0 measures
    /// at once (for runs that check the harness, not the figures).
    /// </summary>
    public int SettleMs { get; init; } = 200;

    /// <summary>Where the JSON results go; null: bench/BenchmarkDotNet.Artifacts/scale.json in the repository.</summary>
    public string? JsonPath { get; init; }

    /// <summary>
    /// NAME=VALUE settings for the host process's environment (<c>--host-env</c>, repeatable): GC settings the
    /// runtime reads only from the environment (DOTNET_GCgen0size) or that override its runtimeconfig, to compare them.
    /// </summary>
    public IReadOnlyList<string> HostEnvironment { get; init; } = [];

    /// <summary>True for <c>--quick</c>.</summary>
    public bool Quick { get; init; }

    /// <summary>Mappings each worker may hold (a .NET process has a few thousand VMAs of its own).</summary>
    public const int MappingsPerWorker = 25_000;

    public int WorkerCount => Workers > 0 ? Workers : Math.Max(2, (Mappings + MappingsPerWorker - 1) / MappingsPerWorker);

    /// <summary>The fixed mapping count at which few and many connections are compared.</summary>
    public int ComparisonMappings => Math.Min(10_000, Mappings);

    /// <summary>The curve's levels: 10, 100, 1,000, … up to <see cref="Mappings"/> (which is always the last).</summary>
    public IReadOnlyList<int> Levels
    {
        get
        {
            var levels = new List<int>();
            for (long l = 10; l < Mappings; l *= 10) levels.Add((int)l);
            levels.Add(Mappings);
            return levels;
        }
    }

    /// <summary>The probe's own mappings in the per-connection curve: 10 … min(10,000, mappings).</summary>
    public IReadOnlyList<int> ProbeLevels => [.. Levels.Where(l => l <= ComparisonMappings).Append(ComparisonMappings).Distinct()];

    /// <summary>Parses the arguments after <c>scale</c>; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static ScaleOptions Parse(IReadOnlyList<string> args)
    {
        bool quick = args.Contains("--quick");
        var o = quick ? new ScaleOptions { Quick = true, Mappings = 10_000, Samples = 1500 } : new ScaleOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--quick") continue;
            if (a == "--json")
            {
                o = o with { JsonPath = Path.GetFullPath(Value(args, ref i)) };
                continue;
            }
            if (a == "--host-env")
            {
                o = o with { HostEnvironment = [.. o.HostEnvironment, EnvironmentSetting(Value(args, ref i))] };
                continue;
            }
            int n = a switch
            {
                "--connections" or "--mappings" or "--cookies" or "--workers" or "--samples" or "--few-connections" or "--settle-ms" => Number(a, Value(args, ref i)),
                _ => throw new ArgumentException($"unknown option \"{a}\" (known: --quick, --connections N, --mappings N, --cookies N, --workers N, --samples N, --few-connections N, --settle-ms N, --json PATH, --host-env NAME=VALUE)"),
            };
            o = a switch
            {
                "--connections" => o with { Connections = n },
                "--mappings" => o with { Mappings = n },
                "--cookies" => o with { Cookies = n },
                "--workers" => o with { Workers = n },
                "--samples" => o with { Samples = n },
                "--settle-ms" => o with { SettleMs = n },
                _ => o with { FewConnections = n },
            };
        }
        o.Validate();
        return o;
    }

    private void Validate()
    {
        if (Connections < 1) throw new ArgumentException($"--connections must be at least 1, not {Connections}");
        if (Mappings < 10) throw new ArgumentException($"--mappings must be at least 10, not {Mappings}");
        if (Cookies < 1 || Cookies > ScaleDriver.ScaleIoctl.MaxCookies)
            throw new ArgumentException($"--cookies must be between 1 and {ScaleDriver.ScaleIoctl.MaxCookies}, not {Cookies}");
        if (SettleMs is not 0 and (< 20 or > 2000)) throw new ArgumentException($"--settle-ms must be 0 or between 20 and 2000, not {SettleMs}");
        if (Samples < 100) throw new ArgumentException($"--samples must be at least 100 (a p99.9 needs them), not {Samples}");
        if (FewConnections < 1 || FewConnections > Connections)
            throw new ArgumentException($"--few-connections must be between 1 and --connections ({Connections}), not {FewConnections}");
        if (Workers < 0 || WorkerCount > Math.Min(Connections, FewConnections))
            throw new ArgumentException($"{WorkerCount} workers need at least as many connections (--connections {Connections}, --few-connections {FewConnections})");
        if ((long)Mappings > (long)WorkerCount * MappingsPerWorker)
            throw new ArgumentException($"{Mappings} mappings over {WorkerCount} workers is more than {MappingsPerWorker} per worker process (vm.max_map_count)");
    }

    /// <summary>A NAME=VALUE setting for the host's environment; only the runtime's own (DOTNET_*) are taken.</summary>
    private static string EnvironmentSetting(string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || !text.StartsWith("DOTNET_", StringComparison.Ordinal))
            throw new ArgumentException($"--host-env needs DOTNET_NAME=VALUE (a runtime setting), not \"{text}\"");
        return text;
    }

    private static string Value(IReadOnlyList<string> args, ref int i) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");

    private static int Number(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            ? n
            : throw new ArgumentException($"{option} needs a whole number, not \"{text}\"");
}
