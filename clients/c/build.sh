#!/usr/bin/env bash
# Builds the Umem C client, its tests and examples: 64-bit into build/64, 32-bit (-m32) into build/32,
# and on request a 64-bit AddressSanitizer/UBSan build into build/asan.
#   usage: build.sh [64] [32] [asan]   (default: 64, and 32 when gcc -m32 can link, i.e. gcc-multilib is there)
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-gcc}
CFLAGS=(-Wall -Wextra -Werror -O2 -std=c11)
LIB=(umem.c umem_wire.c umem_errname.c)
PROGS=(tests/test_vectors tests/test_e2e tests/test_bigmap tests/test_touch tests/fake_host examples/umem_greet bench/map_bench)

build() { # build DIR FLAGS...
    local out=build/$1; shift
    mkdir -p "$out/obj"
    local objs=()
    for src in "${LIB[@]}"; do
        "$CC" "${CFLAGS[@]}" "$@" -c "$src" -o "$out/obj/${src%.c}.o"
        objs+=("$out/obj/${src%.c}.o")
    done
    rm -f "$out/libumem.a"
    ar rcs "$out/libumem.a" "${objs[@]}"
    for prog in "${PROGS[@]}"; do
        "$CC" "${CFLAGS[@]}" "$@" -o "$out/$(basename "$prog")" "$prog.c" "$out/libumem.a"
    done
    # Runs only where this kernel can execute the build's binaries natively (run.sh asks it).
    echo 'int main(void) { return 0; }' | "$CC" "$@" -x c -o "$out/native_probe" -
    echo "built $out"
}

can_m32() {
    local probe; probe=$(mktemp)
    echo 'int main(void) { return 0; }' | "$CC" -m32 -x c -o "$probe" - 2>/dev/null
    local rc=$?; rm -f "$probe"; return $rc
}

if [ $# -eq 0 ]; then
    set -- 64
    if can_m32; then set -- 64 32; else echo "build.sh: gcc -m32 cannot link (gcc-multilib missing): 32-bit build skipped" >&2; fi
fi
pids=()
for t in "$@"; do
    case $t in
    64) build 64 & pids+=($!) ;;
    32) can_m32 || { echo "build.sh: gcc -m32 cannot link: install gcc-multilib" >&2; exit 1; }
        build 32 -m32 & pids+=($!) ;;
    asan) build asan -g -fsanitize=address,undefined -fno-omit-frame-pointer & pids+=($!) ;;
    *) echo "usage: build.sh [64] [32] [asan]" >&2; exit 2 ;;
    esac
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
