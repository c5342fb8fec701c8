#!/usr/bin/env bash
# The preload's cost (clients/c/bench/preload_bench.c): starts `umem host -d xx` in a fresh directory, then runs
# preload_bench RUNS times without and with LD_PRELOAD=libumem-preload.so, alternately, so both see the same load.
#   usage: bench/preload.sh [-r RUNS] [-n ROUNDS N]
# Needs a build of src/Umem.Cli (CONFIG=Release by default: dotnet build src/Umem.Cli -c Release) and clients/c/build.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 rounds=15 n=200000
while [ $# -gt 0 ]; do
    case $1 in
    -r) runs=$2; shift 2 ;;
    -n) rounds=$2 n=$3; shift 3 ;;
    *) echo "usage: bench/preload.sh [-r RUNS] [-n ROUNDS N]" >&2; exit 2 ;;
    esac
done
cli="$root/src/Umem.Cli/bin/${CONFIG:-Release}/net10.0/umem.dll"
bench="$root/clients/c/build/64/preload_bench" lib="$root/clients/c/build/64/libumem-preload.so"
for f in "$cli" "$bench" "$lib"; do [ -e "$f" ] || { echo "bench/preload.sh: $f is missing (see the usage)" >&2; exit 1; }; done
dir=$(mktemp -d)
dotnet "$cli" host -d xx --dev-dir "$dir/dev" > "$dir/host.log" 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null; wait $host_pid 2>/dev/null; rm -rf "$dir"' EXIT
until [ -S "$dir/dev/xx0" ]; do kill -0 $host_pid 2>/dev/null || { cat "$dir/host.log" >&2; exit 1; }; sleep 0.1; done
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; host ${CONFIG:-Release}; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= runs; i++)); do
    echo "## run $i: without the preload"
    "$bench" "$dir/dev/xx0" "$rounds" "$n"
    echo "## run $i: LD_PRELOAD=libumem-preload.so"
    LD_PRELOAD="$lib" "$bench" "$dir/dev/xx0" "$rounds" "$n"
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
