#!/bin/sh
# Builds the C peers and floors of the doorbell and ring tests and benchmarks into bench/native/bin.
# Idempotent (make-like: rebuilds only what changed); the tests and benchmarks call it on demand.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/bin"
mkdir -p "$out"
for prog in syncpeer floors; do
    if [ ! -x "$out/$prog" ] || [ "$here/$prog.c" -nt "$out/$prog" ] || [ "$here/umem_sync.h" -nt "$out/$prog" ]; then
        # Build to a temporary name and rename, so concurrent callers never run a half-written binary.
        gcc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$out/$prog.tmp.$$" "$here/$prog.c"
        mv -f "$out/$prog.tmp.$$" "$out/$prog"
    fi
done
