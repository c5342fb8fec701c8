using BenchmarkDotNet.Running;
using Umem.Bench.Interleaved;
using Umem.Bench.Scale;

// `scale` and its worker processes are not BenchmarkDotNet suites (many processes, a latency curve): see Scale/.
if (ScaleMode.TryRun(args, out int exitCode)) return exitCode;
// `interleaved maprequest [rounds] [batch]`: the map-request operations round-robin under one load (a check on the
// BenchmarkDotNet figures on a shared machine); `interleaved charge [rounds] [ops]`: the charge path's 1 -> 2 thread
// scaling in per-thread CPU time. Anything else goes to BenchmarkDotNet.
if (args is ["interleaved", "maprequest", .. var rest]) return MapRequestInterleaved.Run(rest);
if (args is ["interleaved", "charge", .. var chargeArgs]) return ChargeScaling.Run(chargeArgs);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
