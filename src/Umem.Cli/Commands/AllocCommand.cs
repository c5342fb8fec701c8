using System.CommandLine;
using Spectre.Console;
using Umem.Kernel.Memory;
using Umem.Platform;

namespace Umem.Cli.Commands;

/// <summary><c>umem alloc</c>: allocates driver memory in-process, shows it, and frees it (ddi_umem_alloc/free).</summary>
internal static class AllocCommand
{
    internal static Command Create()
    {
        var size = CliOptions.Bytes("--size", "Bytes to allocate, or with K, M, G (rounded up to whole pages; default 1).");
        size.Aliases.Add("-s");
        var pageable = new Option<bool>("--pageable") { Description = "DDI_UMEM_PAGEABLE: do not lock the pages." };
        var nosleep = new Option<bool>("--nosleep") { Description = "DDI_UMEM_NOSLEEP: fail at once if memory is not available." };
        var command = new Command("alloc", "Allocate driver memory with ddi_umem_alloc, show it, and free it.") { size, pageable, nosleep };
        command.SetAction(parse =>
        {
            long bytes = parse.GetValue(size) ?? 1;
            var flags = (parse.GetValue(pageable) ? UmemFlags.Pageable : 0) | (parse.GetValue(nosleep) ? UmemFlags.NoSleep : 0);
            if (bytes <= 0)
            {
                Console.Error.WriteLine($"umem alloc: --size must be positive (got {bytes})");
                return ExitCodes.Usage;
            }
            using var allocator = new UmemAllocator();
            UmemCookie cookie;
            try
            {
                cookie = allocator.Alloc(bytes, flags);
            }
            catch (ErrnoException e)
            {
                Console.Error.WriteLine($"umem alloc: {e.Message}");
                return ExitCodes.Failure;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"umem alloc: {e.Message}");
                return ExitCodes.Usage;
            }
            bool zero = !cookie.Span.ContainsAnyExcept((byte)0);
            var table = new Table().AddColumns("field", "value");
            table.AddRow("requested", $"{bytes} bytes");
            table.AddRow("size", $"{cookie.Size} bytes ({cookie.Size / SystemPage.Size} pages of {SystemPage.Size})");
            table.AddRow("kernel address", $"0x{cookie.KernelAddress:x}");
            table.AddRow("type", cookie.Type.ToString());
            table.AddRow("page-aligned", (cookie.KernelAddress % SystemPage.Size == 0).ToString());
            table.AddRow("zero-filled", zero.ToString());
            AnsiConsole.Write(table);
            allocator.Free(cookie);
            var stats = allocator.GetStatistics();
            AnsiConsole.MarkupLine($"freed; live bytes now {stats.TotalBytes}, peak {stats.PeakBytes}");
            return zero && stats.TotalBytes == 0 ? 0 : 1;
        });
        return command;
    }
}
