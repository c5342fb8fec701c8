#!/usr/bin/env bash
# The quick versions of every benchmark behind bench/README.md, in one go (under 10 minutes on two cores):
#   1. every BenchmarkDotNet suite, short job (3 warm-up and 3 measured iterations) of 100 ms iterations, in
#      process (no build and launch per benchmark: ~1.5 s each instead of ~7.5 s);
#   2. the interleaved runs: map requests round-robin beside their floors, the charge path 1 -> 2 threads in CPU time;
#   3. the scale benchmark's quick run (1,000 connections, 10,000 mappings, 10,000 cookies).
# With arguments, only BenchmarkDotNet runs, with them added, e.g. `bench/run-quick.sh --filter '*AllocFree*'`.
# Run as root (the scale run reads the host's /proc files; the host makes itself non-dumpable).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Umem.Bench -nologo -v quiet
export UMEM_BENCH_QUICK=1 # suites with a longer job of their own take the short one (bench/Umem.Bench/QuickRun.cs)
bench() { echo "== bench/Umem.Bench $*"; dotnet run -c Release --no-build --project bench/Umem.Bench -- "$@"; }
if [ $# -gt 0 ]; then
  bench --job short --artifacts bench/BenchmarkDotNet.Artifacts "$@"
  exit
fi
start=$SECONDS
bench --job short --iterationTime 100 --inProcess --artifacts bench/BenchmarkDotNet.Artifacts --filter '*'
bench interleaved maprequest 7 1000
bench interleaved charge 5 1000000
bench scale --quick
echo "== all quick benchmarks: $((SECONDS - start)) s; BenchmarkDotNet reports in bench/BenchmarkDotNet.Artifacts/results/, scale in bench/BenchmarkDotNet.Artifacts/scale.json"
