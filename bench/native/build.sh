#!/bin/sh
# Builds the C peers and floors of the doorbell and ring tests and benchmarks into bench/native/bin, with the C
# client's doorbell and ring (clients/c/umem_sync.c) compiled in: no shared build directory, so the tests, the
# benchmarks and a concurrent `make` in clients/c never write the same files.
# Idempotent (make-like: rebuilds only what changed); the tests and benchmarks call it on demand.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
client="$here/../../clients/c"
out="$here/bin"
mkdir -p "$out"
for prog in syncpeer floors; do
    stale=0
    for dep in "$here/$prog.c" "$here/sync_pattern.h" "$client/umem_sync.c" "$client/umem_sync.h"; do
        [ "$dep" -nt "$out/$prog" ] && stale=1
    done
    if [ ! -x "$out/$prog" ] || [ $stale = 1 ]; then
        # Built to a temporary name and renamed, so concurrent callers never run a half-written binary.
        gcc -O2 -Wall -Wextra -Werror -std=gnu11 -I"$client" -o "$out/$prog.tmp.$$" "$here/$prog.c" "$client/umem_sync.c"
        mv -f "$out/$prog.tmp.$$" "$out/$prog"
    fi
done
