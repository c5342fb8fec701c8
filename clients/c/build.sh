#!/usr/bin/env bash
# Builds the Umem C client with its Makefile, 64-bit into build/64 and 32-bit (-m32) into build/32 at once, and
# on request a 64-bit AddressSanitizer/UBSan build into build/asan. Incremental: make rebuilds what changed.
#   usage: build.sh [64] [32] [asan]   (default: 64, and 32 when gcc -m32 can link, i.e. gcc-multilib is there)
set -euo pipefail
cd "$(dirname "$0")"
command -v make >/dev/null || { echo "build.sh: make is missing (apt-get install make)" >&2; exit 1; }

can_m32() {
    local probe; probe=$(mktemp)
    echo 'int main(void) { return 0; }' | "${CC:-gcc}" -m32 -x c -o "$probe" - 2>/dev/null
    local rc=$?; rm -f "$probe"; return $rc
}

if [ $# -eq 0 ]; then
    set -- 64
    if can_m32; then set -- 64 32; else echo "build.sh: gcc -m32 cannot link (gcc-multilib missing): 32-bit build skipped" >&2; fi
fi
pids=()
for t in "$@"; do
    case $t in
    64 | asan) ;;
    32) can_m32 || { echo "build.sh: gcc -m32 cannot link: install gcc-multilib" >&2; exit 1; } ;;
    *) echo "usage: build.sh [64] [32] [asan]" >&2; exit 2 ;;
    esac
    { make -s MODEL="$t" && echo "built build/$t"; } & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
