using BenchmarkDotNet.Running;
using Umem.Bench.Scale;

// `scale` and its worker processes are not BenchmarkDotNet suites (many processes, a latency curve): see Scale/.
if (ScaleMode.TryRun(args, out int exitCode)) return exitCode;
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
