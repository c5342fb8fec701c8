using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Umem.Bench;
using Umem.Bench.Interleaved;
using Umem.Bench.Scale;

// `scale` and its worker processes are not BenchmarkDotNet suites (many processes, a latency curve): see Scale/.
if (ScaleMode.TryRun(args, out int exitCode)) return exitCode;
// Where the figures below come from; BenchmarkDotNet suites also get Machine and Load columns (MachineColumns.cs).
Console.WriteLine($"machine: {MachineColumns.Machine}; load average {MachineColumns.LoadAverages()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
// `interleaved maprequest [rounds] [batch]`: the map-request operations round-robin under one load (a check on the
// BenchmarkDotNet figures on a shared machine); `interleaved charge [rounds] [ops]`: the charge path's 1 -> 2 thread
// scaling in per-thread CPU time; `interleaved largemap [rounds]`: alloc + map + touch + unmap + free through the host
// at 1 page to 1 GiB beside a passed memfd. Anything else goes to BenchmarkDotNet.
if (args is ["interleaved", "maprequest", .. var rest]) return MapRequestInterleaved.Run(rest);
if (args is ["interleaved", "charge", .. var chargeArgs]) return ChargeScaling.Run(chargeArgs);
if (args is ["interleaved", "largemap", .. var largeArgs]) return LargeMapInterleaved.Run(largeArgs);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, MachineColumns.AddTo(DefaultConfig.Instance));
return 0;
