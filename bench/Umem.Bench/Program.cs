using BenchmarkDotNet.Running;
using Umem.Bench.Interleaved;

// `interleaved maprequest [rounds] [batch]`: the map-request operations round-robin under one load (a check on the
// BenchmarkDotNet figures on a shared machine); `interleaved charge [rounds] [ops]`: the charge path's 1 -> 2 thread
// scaling in per-thread CPU time. Anything else goes to BenchmarkDotNet.
if (args is ["interleaved", "maprequest", .. var rest]) return MapRequestInterleaved.Run(rest);
if (args is ["interleaved", "charge", .. var chargeArgs]) return ChargeScaling.Run(chargeArgs);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
