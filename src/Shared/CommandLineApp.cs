using System.CommandLine;
using System.CommandLine.Parsing;

namespace Umem.CommandLine;

/// <summary>
/// Runs a command line under the exit status convention (<see cref="ExitCodes"/>): a parse error is one line each
/// plus where help is, exit 2; an exception no command explained itself is one line, exit 1 (UMEM_DEBUG=1 prints
/// the stack as well). System.CommandLine's own handler, which prints the stack, is off.
/// </summary>
internal static class CommandLineApp
{
    /// <summary>
    /// Parses <paramref name="args"/> for <paramref name="root"/> and runs the chosen action. Lines begin with
    /// <paramref name="prefix"/> ("umem", "ring-writer"); the help hint names <paramref name="program"/>. After
    /// Ctrl+C or SIGTERM the action has <paramref name="terminationTimeout"/> (System.CommandLine's default if null)
    /// to finish before the process exits.
    /// </summary>
    internal static async Task<int> RunAsync(RootCommand root, string[] args, string program, string prefix, TimeSpan? terminationTimeout = null)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // A missing argument is named ("NODE is missing"); System.CommandLine names only the command.
            var missing = parse.CommandResult.Command.Arguments
                .Where(a => a.Arity.MinimumNumberOfValues > 0 && parse.GetResult(a) is null or { Tokens.Count: 0 }).ToList();
            foreach (var argument in missing)
                Console.Error.WriteLine($"{prefix}: {argument.Name.ToUpperInvariant()} is missing: {argument.Description}");
            foreach (var error in parse.Errors.Where(e => e.SymbolResult is not ArgumentResult r || !missing.Contains(r.Argument)))
                Console.Error.WriteLine($"{prefix}: {error.Message}");
            Console.Error.WriteLine($"{prefix}: see '{string.Join(' ', [program, .. CommandPath(parse.CommandResult)])} --help'");
            return ExitCodes.Usage;
        }
        try
        {
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            if (terminationTimeout is { } timeout) configuration.ProcessTerminationTimeout = timeout;
            return await parse.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM while the action did not handle it: 128 + SIGINT, as a shell reports it.
            Console.Error.WriteLine($"{prefix}: interrupted");
            return 130;
        }
        catch (Exception e)
        {
            bool debug = Environment.GetEnvironmentVariable("UMEM_DEBUG") is not null;
            Console.Error.WriteLine(debug ? $"{prefix}: {e}" : $"{prefix}: {e.GetType().Name}: {e.Message} (UMEM_DEBUG=1 shows where)");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The subcommands from the root to <paramref name="result"/> ("host" for `umem host`).</summary>
    private static Stack<string> CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r?.Parent is CommandResult parent; r = parent) names.Push(r.Command.Name);
        return names;
    }
}
