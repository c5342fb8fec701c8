#!/usr/bin/env bash
# The quick benchmark run behind bench/README.md: every benchmark once, BenchmarkDotNet's short job
# (1 launch, 3 warm-up and 3 measured iterations). A few minutes on two cores. Extra arguments go to
# BenchmarkDotNet, e.g. `bench/run-quick.sh --filter '*AllocFree*'`.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=('*')
for a in "$@"; do [ "$a" = "--filter" ] && filter=(); done
exec dotnet run -c Release --project bench/Umem.Bench -- \
  --job short --artifacts bench/BenchmarkDotNet.Artifacts ${filter:+--filter "${filter[@]}"} "$@"
