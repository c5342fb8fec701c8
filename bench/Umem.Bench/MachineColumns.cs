using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.EventProcessors;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Umem.Bench;

/// <summary>
/// Where each figure ran: a "Machine" column (CPU model from /proc/cpuinfo, CPUs this process may use) and a
/// "Load" column (the 1-minute load average from /proc/loadavg when the benchmark started and when it ended), on
/// every suite (Program.cs adds them to the global config). Figures of a shared machine mean little without them.
/// </summary>
internal static class MachineColumns
{
    private static readonly ConcurrentDictionary<BenchmarkCase, (string Start, string End)> s_load = new();

    /// <summary>"AMD EPYC, 2 CPUs" (the CPU model string as the kernel reports it).</summary>
    public static string Machine { get; } = $"{CpuModel()}, {Environment.ProcessorCount} CPUs";

    public static IConfig AddTo(IConfig config) =>
        ManualConfig.Create(config)
            .AddColumn(new TextColumn("Machine", _ => Machine), new TextColumn("Load", Load))
            .AddEventProcessor(new LoadRecorder());

    /// <summary>The 1-, 5- and 15-minute load averages, as uptime(1) prints them.</summary>
    public static string LoadAverages()
    {
        string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
        return $"{fields[0]} {fields[1]} {fields[2]}";
    }

    private static string Load(BenchmarkCase benchmark) =>
        s_load.TryGetValue(benchmark, out var load) ? $"{load.Start}→{load.End}" : "?";

    private static string OneMinuteLoad() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string CpuModel()
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("model name", StringComparison.Ordinal))
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        return "unknown CPU";
    }

    private sealed class LoadRecorder : EventProcessor
    {
        public override void OnStartRunBenchmark(BenchmarkCase benchmarkCase) =>
            s_load[benchmarkCase] = (OneMinuteLoad(), "?");

        public override void OnEndRunBenchmark(BenchmarkCase benchmarkCase, BenchmarkReport report) =>
            s_load.AddOrUpdate(benchmarkCase, _ => ("?", OneMinuteLoad()), (_, l) => (l.Start, OneMinuteLoad()));
    }

    /// <summary>A column of text computed per benchmark.</summary>
    private sealed class TextColumn(string name, Func<BenchmarkCase, string> value) : IColumn
    {
        public string Id => "Umem" + name;

        public string ColumnName => name;

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => false;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => name == "Load" ? "1-minute load average (/proc/loadavg) when the benchmark started → ended" : "CPU model (/proc/cpuinfo) and CPUs available";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(benchmarkCase);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{name} column");
    }
}
