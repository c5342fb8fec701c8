using System.Buffers.Binary;
using System.Globalization;
using Umem.Client;

namespace Umem.Bench.Scale;

/// <summary>
/// One client process of the scale run (<c>scale-worker INDEX COUNT COOKIES NODE</c>): holds its share of the
/// connections (one <see cref="UmemDevice"/> each) and of the mappings, as the coordinator tells it on stdin, one
/// command a line, each answered by one line, "ok ..." or "error ...".
/// </summary>
/// <remarks>
/// Commands: <c>warm N</c> maps and unmaps N pages on a connection it then closes; <c>open N</c> opens N more connections; <c>map N</c> maps one-page mappings (or unmaps the newest) until it holds N, round
/// robin over its connections, its i-th on cookie (i·COUNT + INDEX) mod COOKIES, so the workers together spread
/// evenly over the cookies, and checks that each page holds its cookie's number; <c>unmap</c>, <c>close</c>;
/// <c>stats</c> answers RssAnon, RSS, page-table bytes and VMA count of this process; <c>exit</c>.
/// </remarks>
internal static class ScaleWorker
{
    public static int Run(string[] args, TextReader input, TextWriter output)
    {
        if (args.Length != 4 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int count)
            || !int.TryParse(args[2], CultureInfo.InvariantCulture, out int cookies) || index < 0 || index >= count || cookies < 1)
        {
            Console.Error.WriteLine("usage: scale-worker INDEX COUNT COOKIES NODE (0 <= INDEX < COUNT, COOKIES >= 1)");
            return 2;
        }
        var state = new WorkerState(index, count, cookies, args[3]);
        while (input.ReadLine() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            if (words[0] == "exit") return 0;
            string reply;
            try
            {
                reply = "ok " + state.Execute(words);
            }
            catch (Exception e)
            {
                reply = $"error {e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
            }
            output.WriteLine(reply);
            output.Flush();
        }
        return 0;
    }

    private sealed class WorkerState(int index, int count, int cookies, string node)
    {
        private readonly List<UmemDevice> _devices = [];
        private readonly List<UmemMapping> _mappings = [];

        public string Execute(string[] words) => words[0] switch
        {
            "warm" => Warm(Number(words)),
            "open" => Open(Number(words)),
            "map" => Map(Number(words)),
            "unmap" => Unmap(),
            "close" => Close(),
            "stats" => Stats(),
            _ => throw new ArgumentException($"unknown command \"{words[0]}\""),
        };

        /// <summary>Maps and unmaps n pages on a connection of its own, then closes it: JIT tiers settle before anything is measured.</summary>
        private string Warm(int n)
        {
            using var device = UmemDevice.Open(node);
            int page = Environment.SystemPageSize;
            for (int i = 0; i < n; i++)
            {
                int cookie = (int)(((long)i * count + index) % cookies);
                using var mapping = device.Map((long)cookie * page, page);
                if (BinaryPrimitives.ReadInt32LittleEndian(mapping.Span) != cookie) throw new InvalidOperationException($"device page {cookie} does not hold {cookie}");
            }
            return n.ToString(CultureInfo.InvariantCulture);
        }

        private string Open(int n)
        {
            for (int i = 0; i < n; i++) _devices.Add(UmemDevice.Open(node));
            return _devices.Count.ToString(CultureInfo.InvariantCulture);
        }

        private string Map(int target)
        {
            if (target > 0 && _devices.Count == 0) throw new InvalidOperationException("map before open");
            int page = Environment.SystemPageSize;
            while (_mappings.Count < target)
            {
                int i = _mappings.Count;
                int cookie = (int)(((long)i * count + index) % cookies);
                var mapping = _devices[i % _devices.Count].Map((long)cookie * page, page);
                _mappings.Add(mapping);
                // The driver wrote each cookie's number into its page: this mapping reaches the page it asked for.
                int seen = BinaryPrimitives.ReadInt32LittleEndian(mapping.Span);
                if (seen != cookie) throw new InvalidOperationException($"mapping {i} of device page {cookie} reads {seen}");
            }
            // Coming back down the curve: the newest go first.
            while (_mappings.Count > target)
            {
                _mappings[^1].Dispose();
                _mappings.RemoveAt(_mappings.Count - 1);
            }
            return _mappings.Count.ToString(CultureInfo.InvariantCulture);
        }

        private string Unmap()
        {
            foreach (var m in _mappings) m.Dispose();
            _mappings.Clear();
            return "0";
        }

        private string Close()
        {
            foreach (var d in _devices) d.Dispose();
            _devices.Clear();
            return "0";
        }

        private static string Stats()
        {
            int pid = Environment.ProcessId;
            var m = ProcMemory.Read(pid);
            return string.Create(CultureInfo.InvariantCulture, $"{m.RssAnon} {m.Rss} {m.PageTables} {ProcMemory.CountMaps(pid)}");
        }

        private static int Number(string[] words) =>
            words.Length == 2 && int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                ? n
                : throw new ArgumentException($"{words[0]} needs one whole number");
    }
}
