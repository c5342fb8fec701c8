using BenchmarkDotNet.Running;
using Umem.Bench.Interleaved;

// `interleaved maprequest [rounds] [batch]`: the map-request operations round-robin under one load (a check on the
// BenchmarkDotNet figures on a shared machine). Anything else goes to BenchmarkDotNet.
if (args is ["interleaved", "maprequest", .. var rest]) return MapRequestInterleaved.Run(rest);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
