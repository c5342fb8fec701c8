#!/usr/bin/env bash
# The C client's map request beside its floor (clients/c/bench/map_bench.c), through the real host: starts
# `Umem.TestApp host DIR noevents` (the device host over the test device) and `Umem.TestApp fdserver PATH` (the
# floor), then runs each map_bench binary given, in turn, RUNS times (default: the 64-bit build, 3 runs).
#   usage: bench/cclient-map.sh [-r RUNS] [-n ROUNDS N] [-p PAGES] [MAP_BENCH...]
# With -p, the device has PAGES one-page segments and map_bench also maps all of them (map_big).
# Needs a Release build of tests/Umem.TestApp (dotnet build tests/Umem.TestApp -c Release) and clients/c/build.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 rounds=15 n=2000 pages=
while [ $# -gt 0 ]; do
    case $1 in
    -r) runs=$2; shift 2 ;;
    -n) rounds=$2 n=$3; shift 3 ;;
    -p) pages=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || set -- "$root/clients/c/build/64/map_bench"
app="$root/tests/Umem.TestApp/bin/Release/net10.0/Umem.TestApp.dll"
dir=$(mktemp -d)
coproc HOST { exec dotnet "$app" host "$dir/dev" noevents ${pages:+pages=$pages}; }
host_pid=$HOST_PID
dotnet "$app" fdserver "$dir/floor" > "$dir/floor.out" &
floor_pid=$!
trap 'kill $floor_pid 2>/dev/null; echo quit >&"${HOST[1]}" 2>/dev/null; wait $host_pid 2>/dev/null; rm -rf "$dir"' EXIT
read -r ready _ device <&"${HOST[0]}"
[ "$ready" = ready ] || { echo "host did not start" >&2; exit 1; }
until grep -q ready "$dir/floor.out" 2>/dev/null; do sleep 0.1; done
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= runs; i++)); do
    for b in "$@"; do
        echo "## run $i: $b"
        "$b" "$device" "$dir/floor" "$rounds" "$n" $pages
    done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
