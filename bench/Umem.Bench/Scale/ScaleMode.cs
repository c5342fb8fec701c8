namespace Umem.Bench.Scale;

/// <summary>
/// The two command-line modes of the scale benchmark (issue 7, path 6): <c>scale [options]</c> runs the whole
/// benchmark from this process; <c>scale-worker ...</c> is one of the client processes it starts.
/// </summary>
internal static class ScaleMode
{
    /// <summary>Runs a scale mode when <paramref name="args"/> names one; false leaves them to BenchmarkDotNet.</summary>
    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0) return false;
        switch (args[0])
        {
            case "scale":
                ScaleOptions options;
                try
                {
                    options = ScaleOptions.Parse(args[1..]);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine($"scale: {e.Message}");
                    exitCode = 2;
                    return true;
                }
                exitCode = ScaleRun.Run(options, Console.Out);
                return true;
            case "scale-worker":
                exitCode = ScaleWorker.Run(args[1..], Console.In, Console.Out);
                return true;
            default:
                return false;
        }
    }
}
